"""Command families, one module each, and the registry that binds each family to the services it uses.

`command_registry` is where a new family is added; the order of `include` is the order `help` and the
README list the commands in. A test can build a registry of one family the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.channel_notes import ChannelNotes
from bot.channels import Channels
from bot.clock import Clock
from bot.commands import CommandRegistry
from bot.digest import DigestBuilder
from bot.digest_run import DigestRunner
from bot.features import admin, digest, feedback, follows, help, library, papers, subscriptions
from bot.ports import RemotePapers, ScheduleListener, Store
from bot.search import Search
from bot.similar import MoreLikeThis
from bot.types import CommandSpec


@dataclass(frozen=True, slots=True)
class Services:
    """What the command families draw on; the application builds it once."""

    store: Store
    clock: Clock
    channels: Channels
    search: Search
    digests: DigestBuilder
    remote: RemotePapers | None = None
    runner: DigestRunner | None = None
    schedule: ScheduleListener | None = None
    related: MoreLikeThis | None = None


ROUTERS = (
    papers.router,
    feedback.router,
    library.router,
    subscriptions.router,
    follows.router,
    digest.router,
    admin.router,
    help.router,
)
"""Every family, in the order `command_registry` includes them."""


def command_specs() -> list[CommandSpec]:
    """Every command's spec without binding any services (the README reference, manifests)."""
    return [command.spec for router in ROUTERS for command in router.commands]


def command_registry(s: Services) -> CommandRegistry:
    store = s.store
    return (
        CommandRegistry()
        .include(
            papers.router, papers.PaperServices(store.papers, s.search, s.clock, s.remote, store.sources, s.related)
        )
        .include(library.router, library.LibraryServices(s.channels, store.library, store.papers, s.clock, s.remote))
        .include(
            feedback.router,
            feedback.FeedbackServices(
                s.channels, store.votes, store.papers, store.subscriptions, store.deliveries, s.clock
            ),
        )
        .include(
            subscriptions.router,
            subscriptions.TopicServices(s.channels, store.subscriptions, store.papers, s.clock, store.votes),
        )
        .include(
            follows.router,
            follows.FollowServices(
                s.channels, store.subscriptions, store.papers, store.deliveries, store.kv, s.clock, s.schedule
            ),
        )
        .include(digest.router, digest.DigestServices(s.channels, s.digests, s.clock, s.runner, s.schedule))
        .include(
            admin.router,
            admin.AdminServices(
                s.channels,
                store.subscriptions,
                store.deliveries,
                store.sources,
                store.papers,
                s.clock,
                s.schedule,
                notes=ChannelNotes(store.kv),
            ),
        )
        .include(help.router, None)
    )


__all__ = ["ROUTERS", "Services", "command_registry", "command_specs"]

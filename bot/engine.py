"""The engine: turns a `CommandInvocation` into replies, the same way for every surface."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

import bot.features  # noqa: F401  (registers every subcommand)
from bot.clock import Clock
from bot.commands import CommandContext, CommandError, CommandRegistry, refusal, registry
from bot.config import Settings
from bot.metrics import COMMANDS
from bot.types import Channel, ChannelRef, CommandInvocation, Message, Paper, TextReply

if TYPE_CHECKING:
    from bot.digest_run import DigestRunner
    from storage import Database

logger = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong on Paperboy's side; it has been logged. Please try again in a minute."


class RemotePapers(Protocol):
    """The Hub, when Paperboy is online: looks up papers that are not stored yet."""

    async def paper(self, arxiv_id: str) -> Paper | None: ...

    async def search(self, query: str, limit: int = 20) -> list[Paper]: ...


class ScheduleListener(Protocol):
    """Told when a channel's schedule changes, so the change takes effect without a restart."""

    def channel_changed(self, channel: Channel) -> None: ...


@dataclass
class Engine:
    db: Database
    settings: Settings
    clock: Clock
    remote: RemotePapers | None = None
    digests: DigestRunner | None = None
    schedule: ScheduleListener | None = None
    commands: CommandRegistry = field(default_factory=lambda: registry)

    async def handle(self, invocation: CommandInvocation) -> list[Message]:
        text = invocation.text.strip()
        if text.startswith("/papers"):
            text = text[len("/papers") :].strip()
        name, _, args = text.partition(" ")
        name = name.lower() or "help"
        command = self.commands.get(name)
        ids = (invocation.channel.platform.value, invocation.channel.workspace_id, invocation.channel.channel_id)
        if command is None:
            COMMANDS.labels(command="unknown", outcome="error").inc()
            hint = self.commands.suggest(name)
            extra = f" Did you mean `{hint}`?" if hint else ""
            text = f"Unknown command `{name[:40]}`.{extra} Try `/papers help`."
            return [TextReply(text, private=True, is_error=True)]
        spec = command.spec
        if spec.changes_channel and (reason := refusal(invocation, name)) is not None:
            COMMANDS.labels(command=name, outcome="refused").inc()
            return [TextReply(reason, private=True, is_error=True)]
        ctx = CommandContext(invocation=invocation, engine=self, command=name, args=args.strip())
        try:
            reply = await command.handler(ctx)
        except CommandError as exc:
            COMMANDS.labels(command=name, outcome="error").inc()
            return [TextReply(exc.message, private=True, is_error=True)]
        except Exception:
            COMMANDS.labels(command=name, outcome="failure").inc()
            logger.exception("command %s failed platform=%s workspace=%s channel=%s", name, *ids)
            return [TextReply(GENERIC_FAILURE, private=True, is_error=True)]
        COMMANDS.labels(command=name, outcome="ok").inc()
        messages = list(reply) if isinstance(reply, Sequence) else [reply]
        if invocation.force_private or spec.private:
            messages = [_private(m) for m in messages]
        return messages

    async def channel(self, ref: ChannelRef) -> Channel:
        """This channel's row, created with the configured defaults on first use."""
        return await self.db.channels.ensure(
            ref,
            digest_time=self.settings.digest.parsed_time,
            timezone=self.settings.digest.timezone,
            now=self.clock.now(),
        )


def _private(message: Message) -> Message:
    return message if message.private else replace(message, private=True)

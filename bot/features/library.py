"""The channel's library: papers saved with `save` (or the Save button) or shared as links, and `library`.

A library belongs to one channel: saving, unsaving and listing only ever touch the invoking channel's
entries, and anyone in the channel may use them (they are bookmarks, not the channel's digest settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from bot.actions import paper_actions
from bot.channels import Channels
from bot.clock import Clock
from bot.commands import Arg, CommandError, Context, Router
from bot.features.papers import known_paper
from bot.features.params import PaperId, day_label, parse_query
from bot.ports import LibraryStore, PaperStore, RemotePapers
from bot.query import TopicQuery, match
from bot.types import (
    ChannelRef,
    LibraryEntry,
    LibraryVia,
    ListedPaper,
    Paper,
    PaperCard,
    PaperList,
    TextReply,
    UserRef,
)

LIBRARY_SHOWN = 10


@dataclass(frozen=True, slots=True)
class LibraryServices:
    channels: Channels
    library: LibraryStore
    papers: PaperStore
    clock: Clock
    remote: RemotePapers | None = None


router: Router[LibraryServices] = Router("library")
Ctx = Context[LibraryServices]


def who(user: UserRef) -> str:
    """How an entry names the person who added it: their display name, else their platform id."""
    return " ".join(user.display_name.split())[:80] or user.user_id


def entry_note(entry: LibraryEntry) -> str:
    """ "shared by Ada on Tue 2 Dec 2026" / "saved by ...": who brought the paper in, and when."""
    verb = "shared" if entry.via is LibraryVia.SHARED else "saved"
    return f"{verb} by {entry.added_by} on {day_label(entry.added_at.date())}"


async def add_to_library(
    services: LibraryServices, ref: ChannelRef, user: UserRef, paper: Paper, via: LibraryVia
) -> TextReply:
    """Put `paper` in `ref`'s library (once: a second save says who saved it first) and say so."""
    await services.channels.ensure(ref)
    added = await services.library.add(ref, paper.id, by=who(user), at=services.clock.now(), via=via)
    title = paper.title[:200]
    if not added:
        existing = next((e for e in await services.library.entries(ref) if e.paper_id == paper.id), None)
        since = f" ({entry_note(existing)})" if existing is not None else ""
        return TextReply(f"“{title}” is already in this channel's library{since}.", private=True)
    return TextReply(f"Saved “{title}” [{paper.id}] to this channel's library. `/papers library` lists it.")


@router.command()
async def save(ctx: Ctx, paper: PaperId) -> TextReply:
    """Save a paper to this channel's library (the "Save" button).

    Accepts an arXiv id or an arxiv.org, huggingface.co/papers or alphaxiv.org link. A paper Paperboy
    has not stored yet is fetched first.
    """
    services = ctx.services
    found = await known_paper(services.papers, services.remote, services.clock, paper)
    return await add_to_library(services, ctx.channel, ctx.user, found, LibraryVia.SAVED)


@router.command()
async def share(ctx: Ctx, paper: PaperId) -> PaperCard:
    """Show a paper's card to the channel and add it to the library as shared by you.

    What Paperboy does by itself when someone posts a paper link in a Slack channel (or a Discord channel,
    when `PAPERBOY_DISCORD__READ_LINKS` is on). A paper already in the library keeps who brought it in first.
    """
    services = ctx.services
    found = await known_paper(services.papers, services.remote, services.clock, paper)
    await services.channels.ensure(ctx.channel)
    await services.library.add(ctx.channel, found.id, by=who(ctx.user), at=services.clock.now(), via=LibraryVia.SHARED)
    return PaperCard(found, actions=paper_actions(found))


@router.command()
async def unsave(ctx: Ctx, paper: PaperId) -> TextReply:
    """Take a paper out of this channel's library."""
    if not await ctx.services.library.remove(ctx.channel, paper):
        raise CommandError(f"`{paper}` is not in this channel's library; `/papers library` lists what is.")
    return TextReply(f"Removed `{paper}` from this channel's library.")


LibraryQuery = Annotated[
    TopicQuery | None,
    Arg("A topic query that filters the library", metavar="query", rest=True, convert=parse_query),
]


async def library_papers(
    library: LibraryStore, papers: PaperStore, ref: ChannelRef, query: TopicQuery | None
) -> list[tuple[LibraryEntry, Paper, tuple[str, ...]]]:
    """The channel's library entries newest first, with their papers and why they match `query`."""
    entries = await library.entries(ref)
    stored = await papers.get_many([e.paper_id for e in entries])
    found: list[tuple[LibraryEntry, Paper, tuple[str, ...]]] = []
    for entry in entries:
        paper = stored.get(entry.paper_id)
        if paper is None:
            continue
        if query is None:
            found.append((entry, paper, ()))
            continue
        matched = match(query, paper)
        if matched is not None:
            found.append((entry, paper, matched.reasons))
    return found


@router.command()
async def library(ctx: Ctx, query: LibraryQuery = None) -> PaperList:
    """This channel's saved and shared papers, newest first, optionally filtered by a topic query.

    Examples: `library`, `library diffusion`, `library author:"Yann LeCun"`.
    """
    found = await library_papers(ctx.services.library, ctx.services.papers, ctx.channel, query)
    shown = [
        ListedPaper(paper, matched, actions=paper_actions(paper), note=entry_note(entry))
        for entry, paper, matched in found[:LIBRARY_SHOWN]
    ]
    if not found:
        heading = "This channel's library is empty" if query is None else f"No library papers match `{query.text}`"
        note = "Save papers with `/papers save <arXiv id or link>` or the Save button under any paper."
        return PaperList(heading=heading, papers=(), note=note)
    heading = "This channel's library" if query is None else f"Library papers matching `{query.text}`"
    total = len(found)
    return PaperList(
        heading=heading,
        papers=tuple(shown),
        note=f"{total} paper{'s' if total != 1 else ''}, newest first.",
        more=max(0, total - len(shown)),
    )

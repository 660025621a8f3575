"""The channel's library: papers saved with `save` (or the Save button) or shared as links, and `library`.

A library belongs to one channel: saving, unsaving and listing only ever touch the invoking channel's
entries, and anyone in the channel may use them (they are bookmarks, not the channel's digest settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from bot.actions import reading_actions
from bot.channels import Channels
from bot.clock import Clock
from bot.commands import Arg, CommandError, Context, Router
from bot.exports import ExportFormat
from bot.exports import export as export_text
from bot.features.papers import known_paper
from bot.features.params import PaperId, day_label, parse_query
from bot.ports import LibraryStore, PaperStore, RemotePapers
from bot.query import TopicQuery, match
from bot.types import (
    ChannelRef,
    ExportFile,
    LibraryEntry,
    LibraryVia,
    ListedPaper,
    Paper,
    PaperCard,
    PaperList,
    ReadingRole,
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
    return PaperCard(found, actions=reading_actions(found))


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
        ListedPaper(paper, matched, actions=reading_actions(paper), note=entry_note(entry))
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


Format = Annotated[Literal["bibtex", "ris", "csljson"], Arg("bibtex, ris or csljson", what="export format")]
EXPORT_NAMES = {ExportFormat.BIBTEX: "BibTeX", ExportFormat.RIS: "RIS", ExportFormat.CSLJSON: "CSL-JSON"}


@router.command()
async def export(ctx: Ctx, format: Format, query: LibraryQuery = None) -> ExportFile:
    """Upload this channel's library (or what a query matches) as a BibTeX, RIS or CSL-JSON file.

    BibTeX entries carry arXiv's `eprint`, `archivePrefix` and `primaryClass`; RIS and CSL-JSON import
    into Zotero, Mendeley and citeproc tools. Example: `export bibtex diffusion`.
    """
    found = await library_papers(ctx.services.library, ctx.services.papers, ctx.channel, query)
    if not found:
        what = "This channel's library is empty" if query is None else f"No library papers match `{query.text}`"
        raise CommandError(f"{what}; nothing to export. `/papers save <id>` adds papers.")
    fmt = ExportFormat(format)
    n = len(found)
    summary = f"{n} paper{'s' if n != 1 else ''} from this channel's library"
    summary += f" matching `{query.text}`" if query is not None else ""
    return ExportFile(
        filename=f"paperboy-library.{fmt.extension}",
        content=export_text([paper for _, paper, _ in found], fmt),
        summary=f"{summary}, {EXPORT_NAMES[fmt]}.",
        mime_type=fmt.mime_type,
    )


# ---------------------------------------------------------------------------------------------
# Reading together: who reads what, who presents when


PRESENT_IN_DAYS = 7
"""A talk claimed with the button, without a day, is planned a week ahead (and can be moved)."""
MAX_AHEAD_DAYS = 366


def parse_talk_day(text: str) -> date:
    """ "on 2026-12-09" or "2026-12-09" -> that day; anything else is a `CommandError` saying what to type."""
    value = text.strip()
    if value.casefold().startswith("on "):
        value = value[3:].strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"`{value[:30]}` is not a day; give one like `on 2026-12-09`.") from None


TalkDay = Annotated[
    date | None,
    Arg("The day of the talk, like `on 2026-12-09`", metavar="on YYYY-MM-DD", rest=True, convert=parse_talk_day),
]


def channel_today(services: LibraryServices, timezone: str) -> date:
    return services.clock.now().astimezone(ZoneInfo(timezone)).date()


@router.command()
async def read(ctx: Ctx, paper: PaperId) -> TextReply:
    """Say you'll read a paper (the "I'll read it" button); `reading` lists who reads what."""
    services = ctx.services
    found = await known_paper(services.papers, services.remote, services.clock, paper)
    await services.channels.ensure(ctx.channel)
    now = services.clock.now()
    await services.library.add(ctx.channel, found.id, by=who(ctx.user), at=now, via=LibraryVia.SAVED)
    if not await services.library.read(ctx.channel, found.id, who=who(ctx.user), at=now):
        return TextReply(f"You are already reading “{found.title[:200]}”.", private=True)
    return TextReply(
        f"{who(ctx.user)} is reading “{found.title[:200]}” [{found.id}]. `/papers reading` lists who reads what."
    )


@router.command()
async def present(ctx: Ctx, paper: PaperId, day: TalkDay = None) -> TextReply:
    """Present a paper at journal club on a day (the "I'll present it" button: a week from today).

    The channel gets a reminder the day before, and the weekly rollup lists what was presented.
    Example: `present 2402.17764 on 2026-12-09`. Presenting again moves the talk (or hands it over).
    """
    services = ctx.services
    found = await known_paper(services.papers, services.remote, services.clock, paper)
    channel = await services.channels.ensure(ctx.channel)
    today = channel_today(services, channel.timezone)
    talk_day = day or today + timedelta(days=PRESENT_IN_DAYS)
    if talk_day < today:
        raise CommandError(f"{day_label(talk_day)} has passed; give a day from today on.")
    if talk_day > today + timedelta(days=MAX_AHEAD_DAYS):
        raise CommandError("That is more than a year ahead; give a nearer day.")
    now = services.clock.now()
    speaker = who(ctx.user)
    await services.library.add(ctx.channel, found.id, by=speaker, at=now, via=LibraryVia.SAVED)
    before = await services.library.present(ctx.channel, found.id, who=speaker, day=talk_day, at=now)
    text = f"{speaker} presents “{found.title[:200]}” [{found.id}] on {day_label(talk_day)}."
    if before is not None and (before.who != speaker or before.day != talk_day):
        text += f" (It was {before.who}'s, on {day_label(before.day) if before.day else 'no day'}.)"
    if day is None:
        text += f" Another day: `/papers present {found.id} on YYYY-MM-DD`."
    return TextReply(text + " The channel is reminded the day before.")


@router.command()
async def reading(ctx: Ctx) -> PaperList:
    """Who in this channel reads what, and who presents what when (journal club)."""
    services = ctx.services
    plans = await services.library.readings(ctx.channel)
    if not plans:
        return PaperList(
            heading="Nobody in this channel has said what they read yet",
            papers=(),
            note="Press “I'll read it” or “I'll present it” under a paper, or `/papers present <id> on <day>`.",
        )
    stored = await services.papers.get_many([r.paper_id for r in plans])
    notes: dict[str, list[str]] = {}
    for plan in plans:
        if plan.role is ReadingRole.PRESENTS:
            line = f"{plan.who} presents on {day_label(plan.day) if plan.day else 'a day to agree'}"
        else:
            line = f"read by {plan.who}"
        notes.setdefault(plan.paper_id, []).append(line)
    shown = [
        ListedPaper(stored[pid], actions=reading_actions(stored[pid]), note=" · ".join(lines))
        for pid, lines in notes.items()
        if pid in stored
    ]
    return PaperList(
        heading="Reading in this channel", papers=tuple(shown[:LIBRARY_SHOWN]), more=max(0, len(shown) - LIBRARY_SHOWN)
    )

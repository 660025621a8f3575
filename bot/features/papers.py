"""Reading papers: today, top, search, paper, similar."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.commands import CommandContext, CommandError, registry
from bot.errors import SourceError
from bot.ingest import ingest_papers
from bot.query import QuerySyntaxError, TopicQuery, candidate_phrases, parse
from bot.ranking import rank
from bot.types import ArgKind, ArgSpec, ListedPaper, PaperCard, PaperList, TextReply, canonical_arxiv_id

if TYPE_CHECKING:
    from bot.engine import Engine

logger = logging.getLogger(__name__)

MAX_LIST = 25
SEARCH_SHOWN = 10
# Full-text candidate windows (best BM25 first) that the exact matcher judges and the blend re-ranks.
SEARCH_WINDOWS = (20, 100, 500)
# Queries with no positive text (only filters or exclusions) judge this many recent papers.
SCAN_RECENT = 2000
# A search with fewer stored matches than this asks the Hub too (when online).
REMOTE_SEARCH_BELOW = 3

_N = ArgSpec("n", "How many papers (1-25)", ArgKind.INTEGER, min_value=1, max_value=MAX_LIST)


def parse_count(word: str | None, default: int = 10) -> int:
    if word is None:
        return default
    if not word.isdigit() or not 1 <= int(word) <= MAX_LIST:
        raise CommandError(f"`{word[:20]}` is not a number of papers from 1 to {MAX_LIST}.")
    return int(word)


def parse_query(text: str) -> TopicQuery:
    if not text.strip():
        raise CommandError("Give a query, for example `diffusion -survey` or `author:\"Yann LeCun\"`.")
    try:
        return parse(text)
    except QuerySyntaxError as exc:
        raise CommandError(f"That query does not parse: {exc}") from None


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


@registry.command("today", usage="today [N]", args=(_N,))
async def today(ctx: CommandContext) -> PaperList | TextReply:
    """The most upvoted papers of the latest complete Daily Papers day.

    Daily Papers fill up during the day, so `today` shows the latest finished day and says which one.
    """
    words = ctx.words()
    if len(words) > 1:
        raise CommandError("Usage: `today [N]`, for example `today 5`.")
    n = parse_count(words[0] if words else None)
    now = ctx.engine.clock.now()
    current = now.date()
    papers = ctx.engine.db.papers
    day = await papers.latest_featured_day(on_or_before=current - timedelta(days=1))
    note: str | None = None
    if day is None:
        day = await papers.latest_featured_day(on_or_before=current)
        if day is None:
            return TextReply(
                "No papers are stored yet. The next ingest fetches them; an operator can run `paperboy ingest`."
            )
        note = f"{day_label(day)} is still filling up; these are its papers so far."
    else:
        note = explain_gap(day, current)
    listed = [p for p in await papers.featured_on(day) if not p.withdrawn]
    heading = f"Top papers of {day_label(day)}"
    return PaperList(
        heading=heading,
        papers=tuple(ListedPaper(p) for p in listed[:n]),
        note=note,
        more=max(0, len(listed) - n),
    )


def explain_gap(day: date, current: date) -> str | None:
    """Why the shown day is not yesterday: a weekend, or nothing newer published or fetched yet."""
    yesterday = current - timedelta(days=1)
    if day >= yesterday:
        return None
    missing = [day + timedelta(days=i) for i in range(1, (yesterday - day).days + 1)]
    if missing and all(d.weekday() >= 5 for d in missing):
        return f"Daily Papers are not published on weekends; {day_label(day)} is the latest day."
    return (
        f"No newer Daily Papers are stored than {day_label(day)}: not published yet, or the last fetch "
        "failed (see `/papers status`)."
    )


@registry.command(
    "top",
    usage="top week|month [N]",
    args=(ArgSpec("period", "week or month", ArgKind.CHOICE, required=True, choices=("week", "month")), _N),
)
async def top(ctx: CommandContext) -> PaperList | TextReply:
    """The most upvoted papers of the last 7 or 30 days."""
    words = ctx.words()
    if not words or words[0].lower() not in ("week", "month") or len(words) > 2:
        raise CommandError("Usage: `top week [N]` or `top month [N]`.")
    period = words[0].lower()
    n = parse_count(words[1] if len(words) > 1 else None)
    end = await ctx.engine.db.papers.latest_featured_day(on_or_before=ctx.engine.clock.now().date())
    if end is None:
        return TextReply("No papers are stored yet.")
    span = 7 if period == "week" else 30
    start = end - timedelta(days=span - 1)
    listed = [p for p in await ctx.engine.db.papers.featured_between(start, end) if not p.withdrawn]
    return PaperList(
        heading=f"Top papers of the {period} ({day_label(start)} – {day_label(end)})",
        papers=tuple(ListedPaper(p) for p in listed[:n]),
        more=max(0, len(listed) - n),
    )


async def run_search(engine: Engine, query: TopicQuery, *, limit: int) -> tuple[list[ListedPaper], int]:
    """Full-text candidates from storage, judged exactly and ranked by `bot.ranking.rank`.

    Storage returns the best BM25 matches in a window (20, then 100, then 500 when too few of them
    pass the exact matcher); the ranking blend of relevance, upvotes and recency orders that window.
    The total ("N more") is exact when the window holds every full-text match, and otherwise the
    full-text count scaled by the share of the window that passed the exact matcher.
    """
    papers = engine.db.papers
    today_ = engine.clock.now().date()
    phrases = candidate_phrases(query)
    if phrases is None:
        # No positive text to look up (filters or exclusions only): judge the most recent papers.
        candidates = [(p, 0.0) for p in await papers.recent(SCAN_RECENT)]
        return rank(query, candidates, today=today_, limit=limit)
    for size in SEARCH_WINDOWS:
        window = await papers.search_window(phrases, size)
        shown, matched = rank(query, window.candidates, today=today_, limit=limit)
        if len(window.candidates) >= window.total:
            return shown, matched
        if matched > limit:
            break
    estimate = round(window.total * matched / len(window.candidates)) if window.candidates else 0
    return shown, max(matched, estimate)


@registry.command("search", usage="search <query>", args=(ArgSpec("query", "A topic query", required=True),))
async def search(ctx: CommandContext) -> PaperList:
    """Ranked search over stored papers with the topic query language.

    Examples: `search diffusion -survey`, `search moe OR "mixture of experts"`, `search author:"Yann LeCun"`.
    When few stored papers match and Paperboy is online, the Hub's own paper search adds papers.
    """
    query = parse_query(ctx.args)
    shown, total = await run_search(ctx.engine, query, limit=SEARCH_SHOWN)
    note = None
    remote = ctx.engine.remote
    if total < REMOTE_SEARCH_BELOW and remote is not None:
        try:
            found = await remote.search(ctx.args, limit=20)
        except SourceError as exc:
            logger.warning("remote search failed: %s", exc)
            note = "The Hugging Face paper search did not answer; these are stored papers only."
        else:
            if found:
                await ingest_papers(ctx.engine.db.papers, found, now=ctx.engine.clock.now())
                shown, total = await run_search(ctx.engine, query, limit=SEARCH_SHOWN)
    if total == 0:
        return PaperList(heading=f"No papers match `{query.text}`", papers=(), note=note)
    return PaperList(
        heading=f"Papers matching `{query.text}`",
        papers=tuple(shown),
        note=note,
        more=max(0, total - len(shown)),
    )


def paper_id_argument(ctx: CommandContext, usage: str) -> str:
    """The one argument as a canonical arXiv id, or a CommandError saying what is wrong."""
    words = ctx.words()
    if len(words) != 1:
        raise CommandError(usage)
    try:
        return canonical_arxiv_id(words[0])
    except ValueError as exc:
        raise CommandError(f"{exc}.") from None


@registry.command(
    "paper",
    usage="paper <arXiv id or URL>",
    args=(ArgSpec("paper", "arXiv id or arxiv.org / huggingface.co URL", required=True),),
)
async def paper(ctx: CommandContext) -> PaperCard:
    """One paper's card: title, authors, upvotes, summary and links.

    Accepts `2402.17764`, `2402.17764v2`, `https://arxiv.org/abs/2402.17764` or `https://huggingface.co/papers/2402.17764`.
    """
    paper_id = paper_id_argument(ctx, "Usage: `paper <arXiv id or URL>`, for example `paper 2402.17764`.")
    found = await ctx.engine.db.papers.get(paper_id)
    if found is None and ctx.engine.remote is not None:
        try:
            fetched = await ctx.engine.remote.paper(paper_id)
        except SourceError as exc:
            logger.warning("remote paper lookup failed for %s: %s", paper_id, exc)
            fetched = None
        if fetched is not None:
            await ingest_papers(ctx.engine.db.papers, [fetched], now=ctx.engine.clock.now())
            found = await ctx.engine.db.papers.get(paper_id)
    if found is None:
        raise CommandError(f"Paperboy does not know the arXiv paper `{paper_id}`.")
    return PaperCard(found)


def similar_query(keywords: tuple[str, ...], title: str) -> str:
    """A query from a paper's AI keywords (or its title words) that finds related papers."""
    picked = [k.replace('"', "") for k in keywords[:4] if k.strip()]
    if picked:
        return " OR ".join(f'keyword:"{k}"' for k in picked)
    words = [w for w in title.replace('"', "").split() if len(w) > 4][:3]
    return " OR ".join(f'title:"{w}"' for w in words) or title.replace('"', "")


@registry.command(
    "similar",
    usage="similar <arXiv id>",
    args=(ArgSpec("paper", "arXiv id", required=True),),
    private=True,
)
async def similar(ctx: CommandContext) -> PaperList:
    """Papers like this one (the "More like this" button), found from its keywords."""
    paper_id = paper_id_argument(ctx, "Usage: `similar <arXiv id>`.")
    base = await ctx.engine.db.papers.get(paper_id)
    if base is None:
        raise CommandError(f"Paperboy does not know the arXiv paper `{paper_id}`.")
    try:
        query = parse(similar_query(base.ai_keywords, base.title))
    except QuerySyntaxError:
        raise CommandError("This paper has no keywords to search with.") from None
    shown, total = await run_search(ctx.engine, query, limit=SEARCH_SHOWN + 1)
    shown = [p for p in shown if p.paper.id != paper_id][:SEARCH_SHOWN]
    return PaperList(
        heading=f"More like “{base.title[:120]}”",
        papers=tuple(shown),
        more=max(0, total - 1 - len(shown)),
        private=True,
    )

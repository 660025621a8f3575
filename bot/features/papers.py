"""Reading papers: today, top, search, paper, similar."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Annotated, Literal

from bot.actions import paper_actions
from bot.clock import Clock
from bot.commands import Arg, CommandError, Context, Router
from bot.errors import SourceError
from bot.features.params import Count, PaperId, Query, day_label
from bot.ingest import ingest_papers
from bot.ports import PaperStore, RemotePapers, SourceHealthLog
from bot.query import QuerySyntaxError, parse
from bot.search import Search
from bot.similar import MoreLikeThis, Related
from bot.types import ListedPaper, Paper, PaperCard, PaperList, TextReply, canonical_arxiv_id

logger = logging.getLogger(__name__)

SEARCH_SHOWN = 10
# A search with fewer stored matches than this asks the Hub too (when online).
REMOTE_SEARCH_BELOW = 3


@dataclass(frozen=True, slots=True)
class PaperServices:
    papers: PaperStore
    search: Search
    clock: Clock
    remote: RemotePapers | None = None
    sources: SourceHealthLog | None = None
    """Where the last ingest said what the feed looked like (stale, partial, not published yet)."""
    related: MoreLikeThis | None = None
    """TF-IDF "more like this" (`bot.similar`); None: `similar` falls back to the paper's keywords."""


router: Router[PaperServices] = Router("papers")
Ctx = Context[PaperServices]


def listed(paper: Paper, matched: tuple[str, ...] = ()) -> ListedPaper:
    return ListedPaper(paper, matched, actions=paper_actions(paper))


def with_actions(papers: list[ListedPaper]) -> tuple[ListedPaper, ...]:
    return tuple(replace(p, actions=paper_actions(p.paper)) for p in papers)


@router.command()
async def today(ctx: Ctx, n: Count = 10) -> PaperList | TextReply:
    """The most upvoted papers of the latest complete Daily Papers day.

    Daily Papers fill up during the day, so `today` shows the latest finished day and says which one.
    """
    current = ctx.services.clock.now().date()
    papers = ctx.services.papers
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
    feed_note = await _feed_note(ctx.services.sources)
    if feed_note:
        note = f"{note} {feed_note}" if note else feed_note
    shown = [p for p in await papers.featured_on(day) if not p.withdrawn]
    return PaperList(
        heading=f"Top papers of {day_label(day)}",
        papers=tuple(listed(p) for p in shown[:n]),
        note=note,
        more=max(0, len(shown) - n),
    )


async def _feed_note(sources: SourceHealthLog | None) -> str | None:
    if sources is None:
        return None
    hf = next((s for s in await sources.all() if s.source == "hf"), None)
    return hf.note if hf is not None else None


def explain_gap(day: date, current: date) -> str | None:
    """Why the shown day is not yesterday: a weekend, or nothing newer published or fetched yet."""
    yesterday = current - timedelta(days=1)
    if day >= yesterday:
        return None
    gap = (yesterday - day).days
    # A weekend is at most two days: a longer gap is never just a weekend, and is not walked day by day.
    if gap <= 2 and all((day + timedelta(days=i)).weekday() >= 5 for i in range(1, gap + 1)):
        return f"Daily Papers are not published on weekends; {day_label(day)} is the latest day."
    return (
        f"No newer Daily Papers are stored than {day_label(day)}: not published yet, or the last fetch "
        "failed (see `/papers status`)."
    )


Period = Annotated[Literal["week", "month"], Arg("week or month", what="period")]


@router.command()
async def top(ctx: Ctx, period: Period, n: Count = 10) -> PaperList | TextReply:
    """The most upvoted papers of the last 7 or 30 days."""
    papers = ctx.services.papers
    end = await papers.latest_featured_day(on_or_before=ctx.services.clock.now().date())
    if end is None:
        return TextReply("No papers are stored yet.")
    span = 7 if period == "week" else 30
    start = end - timedelta(days=span - 1)
    shown = [p for p in await papers.featured_between(start, end) if not p.withdrawn]
    return PaperList(
        heading=f"Top papers of the {period} ({day_label(start)} – {day_label(end)})",
        papers=tuple(listed(p) for p in shown[:n]),
        more=max(0, len(shown) - n),
    )


@router.command()
async def search(ctx: Ctx, query: Query) -> PaperList:
    """Ranked search over stored papers with the topic query language.

    Examples: `search diffusion -survey`, `search moe OR "mixture of experts"`, `search author:"Yann LeCun"`.
    When few stored papers match and Paperboy is online, the Hub's own paper search adds papers.
    """
    services = ctx.services
    result = await services.search.run(query, limit=SEARCH_SHOWN)
    note = None
    if result.total < REMOTE_SEARCH_BELOW and services.remote is not None:
        try:
            found = await services.remote.search(query.text, limit=20)
        except SourceError as exc:
            logger.warning("remote search failed: %s", exc)
            note = "The Hugging Face paper search did not answer; these are stored papers only."
        else:
            if found:
                await ingest_papers(services.papers, found, now=services.clock.now())
                result = await services.search.run(query, limit=SEARCH_SHOWN)
    if result.total == 0:
        return PaperList(heading=f"No papers match `{query.text}`", papers=(), note=note)
    return PaperList(
        heading=f"Papers matching `{query.text}`",
        papers=with_actions(result.shown),
        note=note,
        more=max(0, result.total - len(result.shown)),
        more_estimated=result.estimated,
    )


@router.command()
async def paper(ctx: Ctx, paper: PaperId) -> PaperCard:
    """One paper's card: title, authors, upvotes, summary and links.

    Accepts `2402.17764`, `2402.17764v2`, `https://arxiv.org/abs/2402.17764` or `https://huggingface.co/papers/2402.17764`.
    """
    services = ctx.services
    found = await known_paper(services.papers, services.remote, services.clock, paper)
    return PaperCard(found, actions=paper_actions(found))


async def known_paper(papers: PaperStore, remote: RemotePapers | None, clock: Clock, paper_id: str) -> Paper:
    """The stored paper, else fetched from the sources and stored; `CommandError` when nobody knows it."""
    found = await papers.get(paper_id)
    if found is None and remote is not None:
        try:
            fetched = await remote.paper(paper_id)
        except SourceError as exc:
            logger.warning("remote paper lookup failed for %s: %s", paper_id, exc)
            fetched = None
        if fetched is not None:
            await ingest_papers(papers, [fetched], now=clock.now())
            found = await papers.get(paper_id)
    if found is None:
        raise CommandError(f"Paperboy does not know the arXiv paper `{paper_id}`.")
    return found


def similar_query(keywords: tuple[str, ...], title: str) -> str:
    """A query from a paper's AI keywords (or its title words) that finds related papers."""
    picked = [k.replace('"', "") for k in keywords[:4] if k.strip()]
    if picked:
        return " OR ".join(f'keyword:"{k}"' for k in picked)
    words = [w for w in title.replace('"', "").split() if len(w) > 4][:3]
    return " OR ".join(f'title:"{w}"' for w in words) or title.replace('"', "")


SimilarTo = Annotated[str, Arg("arXiv id", metavar="arXiv id", convert=canonical_arxiv_id)]


@router.command(private=True)
async def similar(ctx: Ctx, paper: SimilarTo) -> PaperList:
    """Papers like this one (the "More like this" button): stored papers whose words are most like its own.

    Each result says which distinctive words it shares with this paper (TF-IDF over titles, abstracts and
    keywords, computed locally), so related work is found even when it shares no keyword.
    """
    base = await ctx.services.papers.get(paper)
    if base is None:
        raise CommandError(f"Paperboy does not know the arXiv paper `{paper}`.")
    if ctx.services.related is not None:
        found = await ctx.services.related.like(base, limit=SEARCH_SHOWN + 5)
        if found is not None:
            return await _related(ctx.services, found, base)
        shown = await keyword_similar(ctx.services.search, base)
        note = "Paperboy is still indexing its papers for related work; these share its keywords. Try again soon."
        return replace(shown, note=note)
    return await keyword_similar(ctx.services.search, base)


async def _related(services: PaperServices, found: list[Related], base: Paper) -> PaperList:
    stored = await services.papers.get_many([r.paper_id for r in found])
    shown: list[ListedPaper] = []
    for r in found:
        p = stored.get(r.paper_id)
        if p is not None and not p.withdrawn and len(shown) < SEARCH_SHOWN:
            reason = ("shares: " + ", ".join(r.shared),) if r.shared else ()
            shown.append(ListedPaper(p, reason, round(r.score, 4), actions=paper_actions(p)))
    heading = f"More like “{base.title[:120]}”"
    if not shown:
        return PaperList(heading=heading, papers=(), note="No stored paper shares enough words with it.", private=True)
    return PaperList(heading=heading, papers=tuple(shown), private=True)


async def keyword_similar(search: Search, base: Paper) -> PaperList:
    """The keyword `similar` (before TF-IDF): papers sharing one of its AI keywords (bench/similar.py compares)."""
    paper = base.id
    try:
        query = parse(similar_query(base.ai_keywords, base.title))
    except QuerySyntaxError:
        raise CommandError("This paper has no keywords to search with.") from None
    result = await search.run(query, limit=SEARCH_SHOWN + 1)
    shown = [p for p in result.shown if p.paper.id != paper][:SEARCH_SHOWN]
    return PaperList(
        heading=f"More like “{base.title[:120]}”",
        papers=with_actions(shown),
        more=max(0, result.total - 1 - len(shown)),
        more_estimated=result.estimated,
        private=True,
    )

"""What a channel's digest contains (DESIGN §5).

1. with `trending` on: the top `max` papers of the latest complete Daily Papers day, by upvotes;
2. per topic: papers that arrived since the channel's last digest (and not before the topic was
   created, so a new topic never floods the channel with its backlog), best first, at most `max`;
3. nothing ever posted in this channel before; nothing withdrawn; nothing under `min-upvotes`.

A trending paper that also matches a topic appears once, as trending, with its "matched" line.
Topic matching runs every topic of the channel against the window's papers at once through
`PaperIndex` (set algebra over an inverted index), then explains only the papers that made it in.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.query import QuerySyntaxError, TopicQuery, match, parse
from bot.topic_index import PaperIndex
from bot.types import Channel, Digest, DigestEntry, DigestReason, Paper, Subscription

if TYPE_CHECKING:
    from storage import Database


# A fan-out selects for thousands of channels that share topics and papers: parse each stored query
# once and explain each (topic, paper) pair once. Both are pure functions of frozen values.
_parse_stored = functools.lru_cache(maxsize=16_384)(parse)
_explain = functools.lru_cache(maxsize=65_536)(match)


@functools.lru_cache(maxsize=8)
def _shared_index(pool: tuple[Paper, ...]) -> PaperIndex:
    """One index per distinct pool of papers (channels with the same window share it); papers are
    frozen values, so equal pools give equal indexes and a changed paper gives a new one."""
    return PaperIndex(pool)


def local_day(channel: Channel, when: datetime) -> date:
    return when.astimezone(ZoneInfo(channel.timezone)).date()


@dataclass(frozen=True, slots=True)
class TopicWindow:
    """A topic and the first Daily Papers day whose papers are new to it in this channel."""

    subscription: Subscription
    query: TopicQuery
    start: date


def topic_windows(channel: Channel, subscriptions: list[Subscription]) -> list[TopicWindow]:
    windows: list[TopicWindow] = []
    last = local_day(channel, channel.last_digest_at) if channel.last_digest_at else None
    for sub in subscriptions:
        try:
            query = _parse_stored(sub.query)
        except QuerySyntaxError:
            # Stored queries were valid when stored; a stricter parser must not break the digest.
            continue
        created = local_day(channel, sub.created_at)
        windows.append(TopicWindow(sub, query, max(created, last) if last else created))
    return windows


def arrival_days(paper: Paper) -> tuple[date, ...]:
    if paper.featured_days:
        return paper.featured_days
    return (paper.published_at.date(),) if paper.published_at else ()


def select_entries(
    channel: Channel,
    *,
    trending_pool: list[Paper],
    topic_pool: list[Paper],
    windows: list[TopicWindow],
    posted: set[str],
    papers_day: date,
    index: PaperIndex | None = None,
) -> list[DigestEntry]:
    """The pure selection, separated from storage so it can be tested and benchmarked alone.

    `index`, when given, is a `PaperIndex` over exactly `topic_pool`, shared by the channels of one
    fan-out that see the same papers: it is built once and remembers each distinct query's answer,
    instead of one index per channel. Eligibility (posted, withdrawn, min-upvotes) is checked only on
    what the topics matched, so a shared index costs a channel a few checks, not one per paper.
    """
    s = channel.settings

    def eligible(p: Paper) -> bool:
        return not p.withdrawn and p.upvotes >= s.min_upvotes and p.id not in posted

    if index is None:
        index = PaperIndex(topic_pool)
    topics_of: dict[str, list[TopicWindow]] = {}
    by_id: dict[str, Paper] = {}
    for window, ids in zip(windows, index.evaluate_many([w.query for w in windows]), strict=True):
        for pid in ids:
            paper = index.by_id[pid]
            if eligible(paper) and any(window.start <= d <= papers_day for d in arrival_days(paper)):
                by_id[pid] = paper
                topics_of.setdefault(pid, []).append(window)

    def reasons(p: Paper) -> tuple[str, ...]:
        found: list[str] = []
        for window in topics_of.get(p.id, []):
            m = _explain(window.query, p)
            for reason in m.reasons if m else ():
                if reason not in found:
                    found.append(reason)
        return tuple(found)

    entries: list[DigestEntry] = []
    chosen: set[str] = set()
    if s.trending:
        for p in trending_pool:
            if len(chosen) >= s.max_papers:
                break
            if eligible(p):
                entries.append(DigestEntry(p, DigestReason.TRENDING, reasons(p)))
                chosen.add(p.id)
    matched = sorted((by_id[pid] for pid in topics_of if pid not in chosen), key=lambda p: (-p.upvotes, p.id))
    for p in matched[: s.max_papers]:
        entries.append(DigestEntry(p, DigestReason.TOPIC, reasons(p)))
    return entries


async def build_digest(db: Database, channel: Channel, *, now: datetime, day: date | None = None) -> Digest:
    """The digest `channel` gets for local day `day` (default: the channel's today at `now`)."""
    today = day or local_day(channel, now)
    papers_day = await db.papers.latest_featured_day(on_or_before=today - timedelta(days=1))
    if papers_day is None:
        return Digest(channel.ref, today, (), None, note="No Daily Papers are stored yet.")
    windows = topic_windows(channel, await db.subscriptions.list(channel.ref))
    trending_pool = await db.papers.featured_on(papers_day) if channel.settings.trending else []
    topic_pool: list[Paper] = []
    if windows:
        start = min(w.start for w in windows)
        if start <= papers_day:
            topic_pool = await db.papers.arrived_between(start, papers_day)
    entries = select_entries(
        channel,
        trending_pool=trending_pool,
        topic_pool=topic_pool,
        index=_shared_index(tuple(topic_pool)) if topic_pool else None,
        windows=windows,
        posted=await db.deliveries.posted_paper_ids(channel.ref),
        papers_day=papers_day,
    )
    return Digest(channel.ref, today, tuple(entries), papers_day)

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
import heapq
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import feed
from bot.actions import paper_actions
from bot.learning import ChannelModel, FeaturePool, is_active
from bot.ports import DeliveryStore, PaperStore, SourceHealthLog, SubscriptionStore, VoteStore
from bot.query import QuerySyntaxError, TopicQuery, match, parse
from bot.rising import MAX_PER_DIGEST as MAX_RISING
from bot.rising import WITHIN_DAYS, rising_papers
from bot.topic_index import PaperIndex
from bot.types import (
    Channel,
    ChannelRef,
    Digest,
    DigestEntry,
    DigestReason,
    LearnedEffect,
    Paper,
    Subscription,
    Trajectory,
)

RISING_CACHE_SECONDS = 30.0

# A fan-out selects for thousands of channels that share topics: parse each stored query once.
_parse_stored = functools.lru_cache(maxsize=16_384)(parse)


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


def _best_first(paper: Paper) -> tuple[int, str]:
    return (-paper.upvotes, paper.id)


class _WindowHits:
    """What one topic matches within one window of days: the papers best first, and for each its
    "matched" explanation, worked out once however many channels of the fan-out share the topic."""

    __slots__ = ("_reasons", "ids", "papers", "query")

    def __init__(self, query: TopicQuery, papers: tuple[Paper, ...]) -> None:
        self.query = query
        self.papers = papers
        self.ids = frozenset(p.id for p in papers)
        self._reasons: dict[str, tuple[str, ...]] = {}

    def reasons(self, paper: Paper) -> tuple[str, ...]:
        found = self._reasons.get(paper.id)
        if found is None:
            m = match(self.query, paper)
            found = self._reasons[paper.id] = tuple(dict.fromkeys(m.reasons)) if m else ()
        return found


def _window_hits(index: PaperIndex, query: TopicQuery, start: date, end: date) -> _WindowHits:
    """The papers of `index` that `query` matches and that arrived between `start` and `end` (the index
    keeps the answer: channels of a fan-out share topics and windows)."""

    def compute() -> _WindowHits:
        papers = sorted((index.by_id[pid] for pid in index.evaluate(query)), key=_best_first)
        return _WindowHits(query, tuple(p for p in papers if any(start <= d <= end for d in arrival_days(p))))

    return index.derived(("window", query, start, end), compute)


@dataclass(frozen=True, slots=True)
class RisingPool:
    """The papers climbing fast at one papers day (`bot.rising`), and an index to match topics against
    them; shared by every channel of a fan-out."""

    papers: tuple[tuple[Paper, Trajectory], ...]
    index: PaperIndex

    @classmethod
    def of(cls, found: Sequence[tuple[Paper, Trajectory]]) -> RisingPool:
        return cls(tuple(found), PaperIndex([p for p, _ in found]))

    def matched(self, windows: Sequence[TopicWindow], paper: Paper) -> tuple[str, ...]:
        """Why `paper` fits these topics (empty when none matches)."""
        found: list[str] = []
        for w in windows:
            if paper.id in self.index.evaluate(w.query):
                found += [r for r in self._reasons(w.query, paper) if r not in found]
        return tuple(found)

    def _reasons(self, query: TopicQuery, paper: Paper) -> tuple[str, ...]:
        def compute() -> tuple[str, ...]:
            m = match(query, paper)
            return m.reasons if m else ()

        return self.index.derived(("reasons", query, paper.id), compute)


def select_entries(
    channel: Channel,
    *,
    trending_pool: list[Paper],
    topic_pool: list[Paper],
    windows: list[TopicWindow],
    posted: set[str],
    papers_day: date,
    index: PaperIndex | None = None,
    rising: RisingPool | None = None,
    model: ChannelModel | None = None,
    votes: Mapping[str, tuple[int, int]] | None = None,
) -> list[DigestEntry]:
    """The pure selection, separated from storage so it can be tested and benchmarked alone.

    `index`, when given, is a `PaperIndex` over exactly `topic_pool`, shared by the channels of one
    fan-out that see the same papers: it is built once and remembers each distinct query's answer,
    instead of one index per channel. Each topic's matches within its window come best first, so a
    channel merges its topics' lists and checks eligibility (posted, withdrawn, min-upvotes) only until
    its digest is full, not once per matching paper.

    `model`, the channel's learned ranking (`bot.learning`), orders the topic section (and the trending
    one with `learn_trending`): every eligible match is then scored, and the best `max` by the learned
    order are taken. It never adds or removes a match. `votes` (up, down) per paper are shown on the
    entries when the channel asks for them.
    """
    s = channel.settings

    def eligible(p: Paper) -> bool:
        return not p.withdrawn and p.upvotes >= s.min_upvotes and p.id not in posted

    if index is None:
        index = PaperIndex(topic_pool)
    hits = [_window_hits(index, w.query, w.start, papers_day) for w in windows]

    def reasons(p: Paper) -> tuple[str, ...]:
        found: tuple[str, ...] = ()
        for hit in hits:
            if p.id in hit.ids:
                more = hit.reasons(p)
                found = more if not found else found + tuple(r for r in more if r not in found)
        return found

    def entry(p: Paper, reason: DigestReason) -> DigestEntry:
        # Only a section the votes ordered says what they did: the trending one keeps its upvote order.
        ordered = model is not None and (reason is DigestReason.TOPIC or s.learn_trending)
        learned = model.effect(p) if model is not None and ordered else None
        shown = votes.get(p.id, (0, 0)) if votes is not None else None
        return DigestEntry(p, reason, reasons(p), paper_actions(p), learned=learned, votes=shown)

    entries: list[DigestEntry] = []
    chosen: set[str] = set()
    if s.trending:
        trending: Iterable[Paper] = trending_pool
        if model is not None and s.learn_trending:
            trending = sorted((p for p in trending_pool if eligible(p)), key=model.order_key, reverse=True)
        for p in trending:
            if len(chosen) >= s.max_papers:
                break
            if eligible(p):
                entries.append(entry(p, DigestReason.TRENDING))
                chosen.add(p.id)
    taken = 0
    candidates: Iterable[Paper] = (
        hits[0].papers if len(hits) == 1 else heapq.merge(*(hit.papers for hit in hits), key=_best_first)
    )
    if model is not None and hits:
        # Every eligible match competes, so a liked kind of paper with few upvotes can still fit.
        pool = {p.id: p for p in candidates if p.id not in chosen and eligible(p)}
        candidates = sorted(pool.values(), key=lambda p: (-model.order_key(p), p.id))
    for p in candidates:
        if taken >= s.max_papers:
            break
        if p.id in chosen or not eligible(p):
            continue
        chosen.add(p.id)
        entries.append(entry(p, DigestReason.TOPIC))
        taken += 1
    if s.rising and rising is not None:
        entries += _rising_entries(s.trending, rising, windows, posted | chosen)
    return entries


def _rising_entries(
    trending: bool, rising: RisingPool, windows: Sequence[TopicWindow], seen: set[str]
) -> list[DigestEntry]:
    """Up to `bot.rising.MAX_PER_DIGEST` climbers that fit the channel's interests and it never got."""
    entries: list[DigestEntry] = []
    for paper, climb in rising.papers:
        if len(entries) >= MAX_RISING or paper.id in seen:
            continue
        matched = rising.matched(windows, paper)
        if matched or trending:
            entries.append(DigestEntry(paper, DigestReason.RISING, matched, paper_actions(paper), climb))
    return entries


class DigestBuilder:
    """Reads what a channel's digest needs from the store and selects it (`select_entries`)."""

    def __init__(
        self,
        papers: PaperStore,
        subscriptions: SubscriptionStore,
        deliveries: DeliveryStore,
        sources: SourceHealthLog | None = None,
        votes: VoteStore | None = None,
    ) -> None:
        self._papers = papers
        self._votes = votes
        self._subscriptions = subscriptions
        self._deliveries = deliveries
        self._sources = sources
        self._rising: dict[tuple[date, int], tuple[float, RisingPool]] = {}

    async def build(self, channel: Channel, *, now: datetime, day: date | None = None) -> Digest:
        """The digest `channel` gets for local day `day` (default: the channel's today at `now`)."""
        today = day or local_day(channel, now)
        papers = self._papers
        papers_day = await papers.latest_featured_day(on_or_before=today - timedelta(days=1))
        if papers_day is None:
            return Digest(channel.ref, today, (), None, note="No Daily Papers are stored yet.")
        windows = topic_windows(channel, await self._subscriptions.list(channel.ref))
        trending_pool = await papers.featured_on(papers_day) if channel.settings.trending else []
        topic_pool: list[Paper] = []
        if windows:
            start = min(w.start for w in windows)
            if start <= papers_day:
                topic_pool = await papers.arrived_between(start, papers_day)
        votes = await self._votes.tally(channel.ref) if self._votes is not None else {}
        index = _shared_index(tuple(topic_pool)) if topic_pool else None
        # Against the fan-out's shared pool unless learning orders trending papers too (those may be
        # outside the topic pool): then the exact model.
        pool = index.derived(("features",), lambda: FeaturePool(index.by_id.values())) if index else None
        model = await self.model(channel, votes, None if channel.settings.learn_trending else pool)
        entries = select_entries(
            channel,
            trending_pool=trending_pool,
            topic_pool=topic_pool,
            index=index,
            windows=windows,
            posted=await self._deliveries.posted_paper_ids(channel.ref),
            papers_day=papers_day,
            rising=await self.rising_pool(papers_day) if channel.settings.rising else None,
            model=model,
            votes=votes if channel.settings.votes_shown else None,
        )
        return Digest(
            channel.ref,
            today,
            tuple(entries),
            papers_day,
            note=await self._feed_note(),
            threads=channel.settings.threads,
        )

    async def model(
        self, channel: Channel, votes: Mapping[str, tuple[int, int]], pool: FeaturePool | None = None
    ) -> ChannelModel | None:
        """The channel's learned ranking, or None when learning is off for it (or nothing to learn)."""
        if not votes or not is_active(channel.settings, sum(up + down for up, down in votes.values())):
            return None
        net = [pid for pid, (up, down) in votes.items() if up != down]
        found = ChannelModel.from_tally(votes, await self._papers.get_many(net), pool)
        return None if found.empty else found

    async def rising_pool(self, papers_day: date) -> RisingPool:
        """The day's climbers, read once per papers day and kept briefly: every channel of a fan-out
        shares them (two queries in all, not two per channel). A write of papers here (an ingest, the
        poll) makes a new pool; another replica's shows within `RISING_CACHE_SECONDS`."""
        key = (papers_day, self._papers.generation)
        cached = self._rising.get(key)
        if cached is not None and time.monotonic() - cached[0] < RISING_CACHE_SECONDS:
            return cached[1]
        pool = await self._papers.arrived_between(papers_day - timedelta(days=WITHIN_DAYS - 1), papers_day)
        first = await self._papers.first_upvotes([p.id for p in pool])
        found = RisingPool.of(rising_papers(pool, first, papers_day))
        self._rising = {key: (time.monotonic(), found)}
        return found

    async def _feed_note(self) -> str | None:
        """Why the day's papers look odd (a stale, partial or missing day), as the last ingest found."""
        if self._sources is None:
            return None
        hf = next((s for s in await self._sources.all() if s.source == "hf"), None)
        return feed.digest_note(hf.note) if hf is not None else None


# ---------------------------------------------------------------------------------------------
# A digest as claimed. A delivery that is taken over (its claimer died) must post the same digest:
# the same papers in the same order, split into the same parts, or the parts posted before the crash
# and the ones posted after would overlap or leave papers out. The claim stores the entries and the
# counts shown at that moment (upvotes move between the crash and the takeover, and a count's width
# can move a Discord part boundary); the rest of each paper is read back from the store.


def _climb(t: Trajectory | None) -> list[object] | None:
    return None if t is None else [t.from_upvotes, t.to_upvotes, t.since.isoformat()]


def _learned(effect: LearnedEffect | None) -> dict[str, object] | None:
    if effect is None:
        return None
    return {
        "direction": effect.direction,
        "voted": effect.voted,
        "feature": effect.feature,
        "example": effect.example,
        "score": effect.score,
    }


def _revive_learned(data: dict[str, object] | None) -> LearnedEffect | None:
    if not data:
        return None
    return LearnedEffect(
        int(str(data["direction"])),
        int(str(data["voted"])),
        str(data["feature"]),
        str(data["example"]),
        float(str(data.get("score", 0.0))),
    )


def digest_content(digest: Digest) -> str:
    entries = [
        {
            "id": e.paper.id,
            "reason": e.reason.value,
            "matched": list(e.matched),
            "upvotes": e.paper.upvotes,
            "comments": e.paper.comments,
            "stars": e.paper.github_stars,
            "climb": _climb(e.trajectory),
            "learned": _learned(e.learned),
            "votes": list(e.votes) if e.votes is not None else None,
        }
        for e in digest.entries
    ]
    papers_day = digest.papers_day.isoformat() if digest.papers_day else None
    return json.dumps(
        {
            "day": digest.day.isoformat(),
            "papers_day": papers_day,
            "note": digest.note,
            "entries": entries,
            "threads": digest.threads,
        }
    )


async def revive_digest(content: str, ref: ChannelRef, papers: PaperStore) -> Digest:
    """The digest a claim stored (`digest_content`), with each paper as stored and its counts as claimed."""
    data = json.loads(content)
    rows = data["entries"]
    stored = await papers.get_many([row["id"] for row in rows])
    entries = []
    for row in rows:
        paper = stored.get(row["id"])
        if paper is None:
            continue  # papers are never deleted; a row that vanished is left out rather than shown empty
        paper = replace(paper, upvotes=row["upvotes"], comments=row["comments"], github_stars=row["stars"])
        climb = row.get("climb")
        entries.append(
            DigestEntry(
                paper,
                DigestReason(row["reason"]),
                tuple(row["matched"]),
                paper_actions(paper),
                Trajectory(climb[0], climb[1], date.fromisoformat(climb[2])) if climb else None,
                # Claims stored before feedback existed have neither.
                learned=_revive_learned(row.get("learned")),
                votes=tuple(row["votes"]) if row.get("votes") is not None else None,
            )
        )
    papers_day = date.fromisoformat(data["papers_day"]) if data["papers_day"] else None
    # Claims stored before `threads` existed carry none: no thread was asked for then.
    threads = bool(data.get("threads", False))
    return Digest(ref, date.fromisoformat(data["day"]), tuple(entries), papers_day, note=data["note"], threads=threads)

"""Search over stored papers: the exact top k of the ranking blend without scoring every match.

A broad term matches most of a large archive (`llm`: 636,836 of 1,000,000 papers). Ordering by FTS5's
`bm25()` or Postgres's `ts_rank_cd` scores every match: 1.1 s at a million papers (issue 16). This
module returns the same top k that scoring every match with the blend would, by reading few of them:

- A paper's score (`bot.ranking.rank_papers`) depends on the paper alone: relevance 0..1 from its own
  text, a title bonus, its upvotes and its age. So it is at most `ceiling(upvotes, day)`, relevance and
  title at their maxima. Upvotes and the arrival day are what storage can read without the text.
- Storage keeps, for every block of 1,024 papers (`seq // 1024`), its most upvotes and newest day
  (`paper_blocks`, raised by triggers). A block's ceiling bounds every paper in it.
- The seed: the most upvoted of the 300 newest matches, and of the 300 newest with the phrase in the
  title, are judged first. Their k-th score is the bar for everything after.
- The walk: blocks best ceiling first (in practice the newest, as `seq` grows with arrival), a few per
  statement, each read over an upvote floor, the fewest upvotes that can still reach the bar at that
  block's newest day. Hits are loaded and judged best ceiling first; a hit whose title (read with it)
  lacks the query loses the title bonus before it costs a load. It stops when the next block's or the
  next hit's ceiling is below the k-th score: nothing left can enter the top k. Only strictly lower
  ceilings are skipped, so ties are exact too; `bench/search.py` compares with scoring every match.
- The reads of one search run on one connection in one go (`PaperStore.searching`): on SQLite in a
  worker thread on a plain sqlite3 connection, since a hop through aiosqlite per statement cost more
  than the statements.

Recency is what makes this fast: half the recency weight is gone in 30 days, so past the newest blocks
only papers with far more upvotes than the k-th can still compete, and the floors leave only those.
Chosen over an embedded engine (tantivy) because the index stays the database's own: replicas,
migrations and crash recovery need nothing new, and SQLite and PostgreSQL work alike.

The total ("N more") is exact when every match was read and judged: a query with fewer than 300
full-text matches, of which at most 50 were left unjudged by the stop (those are judged for the count).
Otherwise it is an estimate, said as such ("about 520,000 more"): the matches read (or their density
among the newest papers, scaled to the store) times the share of loaded matches the exact matcher kept.
That share is measured on the most promising matches, so it runs high for a field-scoped query whose
words are common elsewhere (`title:"model merging"` at 100,000 papers: about 513 for 141).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, replace
from datetime import date

from bot.clock import Clock
from bot.ports import PaperStore, SearchReads
from bot.query import (
    TopicQuery,
    candidate_phrases,
    has_positive_author,
    may_match_in,
    positive_text_leaves,
)
from bot.ranking import (
    ABSTRACT_ONLY_RELEVANCE,
    RECENCY_WEIGHT,
    RELEVANCE_WEIGHT,
    TITLE_BONUS,
    UPVOTES_WEIGHT,
    ceiling,
    order_key,
    rank,
    rank_papers,
    recency,
)
from bot.types import BlockHit, HitRange, ListedPaper, SearchBlock

# Queries with no positive text (only filters or exclusions) judge this many recent papers.
SCAN_RECENT = 2000
# Matches loaded and judged per statement (each costs a row read and the exact matcher).
LOAD_BATCH = 16
# Full-text matches one round of blocks should hold: the first round is the best block alone, and its
# matches say how many blocks the next round can take (a narrow query reads every block in one or two
# statements, a broad one a few blocks at a time, stopping after the first few).
ROUND_MATCHES = 6000
ROUND_GROWTH = 4
# The seed: the most upvoted SEED_MOST of the newest SEED_NEWEST matches, and as many of the newest with
# the phrase in the title, give the first k-th score.
SEED_NEWEST, SEED_MOST = 300, 48
# When every match was seen and at most this many were not judged, judge them too: an exact count.
EXACT_COUNT_UP_TO = 50
# Float slack for the stop test: a ceiling is a sum in another order than the score it bounds.
_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class SearchResult:
    shown: list[ListedPaper]
    total: int
    """How many papers match in all (the shown ones included)."""
    estimated: bool = False
    """True when `total` is an estimate (the search stopped before judging every match)."""


class Search:
    def __init__(self, papers: PaperStore, clock: Clock) -> None:
        self._papers = papers
        self._clock = clock
        self._order: tuple[list[SearchBlock], date, list[SearchBlock]] | None = None

    async def run(self, query: TopicQuery, *, limit: int) -> SearchResult:
        """The best `limit` matches of `query` and how many papers match (module docstring)."""
        today = self._clock.now().date()
        phrases = candidate_phrases(query)
        if phrases is None:
            # No positive text to look up (filters or exclusions only): judge the most recent papers.
            candidates = [(p, 0.0) for p in await self._papers.recent(SCAN_RECENT)]
            shown, total = rank(query, candidates, today=today, limit=limit)
            return SearchResult(shown, total)
        blocks = await self._blocks(today)
        visit = _Visit(query, phrases, today, max(0, limit))
        return await self._papers.searching(lambda reads: visit.run(reads, blocks))

    async def _blocks(self, today: date) -> list[SearchBlock]:
        """Every block, best ceiling first; storage's list is cached, and so is its order for a day."""
        blocks = await self._papers.search_blocks()
        cached = self._order
        if cached is not None and cached[0] is blocks and cached[1] == today:
            return cached[2]
        order = sorted(blocks, key=lambda b: (-ceiling(b.max_upvotes, b.max_day, today), -b.block))
        self._order = (blocks, today, order)
        return order


def title_flags_hold(query: TopicQuery, phrases: list[tuple[str, ...]]) -> bool:
    """Whether "no phrase in the title" proves the title bonus is 0 for this query.

    True when every positive word of the query is among the phrases looked up. Not for an AND whose
    other part could be the one in the title: storage looks up only the most selective part.
    """
    asked = {words for leaf in positive_text_leaves(query.root) for _, words, _ in leaf.alternatives}
    return asked <= set(phrases)


def floor_upvotes(threshold: float, fixed: float) -> int:
    """The fewest upvotes with which `fixed` + the upvote part can still reach `threshold` (conservative)."""
    needed = (threshold - fixed - _SLACK) / UPVOTES_WEIGHT
    if needed <= 0:
        return 0
    return max(0, math.floor(math.expm1(min(needed, 40.0))))


class _Visit:
    """One search's walk over the blocks: the top k so far and what was seen, loaded and kept."""

    def __init__(self, query: TopicQuery, phrases: list[tuple[str, ...]], today: date, limit: int) -> None:
        self.query, self.phrases, self.today, self.limit = query, phrases, today, limit
        self.reads: SearchReads
        self.title_decides = title_flags_hold(query, phrases)
        self.abstract_decides = self.title_decides and not has_positive_author(query)
        self.best: list[ListedPaper] = []
        self.seen: set[int] = set()  # full-text matches read (over the upvote floors)
        self.loaded = 0  # ... of which loaded and judged
        self.kept = 0  # ... of which the exact matcher kept
        self.unjudged: list[BlockHit] = []
        self.floored = False  # whether a read left out matches under an upvote floor
        self.estimated_matches = 0.0

    def kth(self) -> float:
        """The score to beat: the k-th best so far (nothing enters a top 0; anything a top k not yet full)."""
        if self.limit == 0:
            return math.inf
        if len(self.best) < self.limit:
            return -math.inf
        return self.best[self.limit - 1].score or 0.0

    def beaten(self, bound: float) -> bool:
        """Whether nothing under `bound` can enter the top k any more."""
        return bound + _SLACK < self.kth()

    def block_ceiling(self, block: SearchBlock) -> float:
        return ceiling(block.max_upvotes, block.max_day, self.today)

    def run(self, reads: SearchReads, blocks: list[SearchBlock]) -> SearchResult:
        """Seed, then walk `blocks` (best ceiling first) until no block left can beat the k-th score."""
        self.reads = reads
        if not blocks:
            return SearchResult([], 0)
        if not self.seed():
            # Fewer matches than the seed looks at: the seed read every one of them.
            return self.finish(complete=True)
        visited, size, cap, first = 0, 1, 1, True
        while visited < len(blocks) and not self.beaten(self.block_ceiling(blocks[visited])):
            chosen: list[SearchBlock] = []
            while visited < len(blocks) and len(chosen) < size:
                if self.beaten(self.block_ceiling(blocks[visited])):
                    break
                chosen.append(blocks[visited])
                visited += 1
            read = self.reads.block_hits(self.phrases, self.ranges(chosen))
            if first:
                # How many matches the best block holds over its floor caps how many blocks a round takes.
                cap, first = max(1, ROUND_MATCHES // max(1, len(read))), False
            size = min(cap, size * ROUND_GROWTH)
            self.judge(self.fresh(read))
        return self.finish(complete=visited == len(blocks))

    def finish(self, *, complete: bool) -> SearchResult:
        """The top k, and the total: exact when every match was read and judged, else an estimate."""
        if complete and not self.floored and len(self.unjudged) <= EXACT_COUNT_UP_TO:
            self.judge(self.unjudged, every=True)
        shown = [replace(p, score=round(p.score or 0.0, 4)) for p in self.best[: self.limit]]
        if complete and not self.floored and not self.unjudged:
            return SearchResult(shown, self.kept)
        # Every full-text match read (not every one judged), or the seed's density among recent papers.
        matches = float(len(self.seen)) if complete and not self.floored else self.estimated_matches
        estimate = round(matches * self.kept / max(1, self.loaded))
        return SearchResult(shown, max(estimate, len(shown)), estimated=True)

    def seed(self) -> bool:
        """A first k-th score from the most upvoted of the newest matches, so that every block is read
        with an upvote floor (without it the best block would be read whole: 650 matches for `llm`).

        False when the query has fewer matches than the seed looks at: then it read and judged them all.
        """
        seed = self.reads.seed_hits(self.phrases, SEED_NEWEST, SEED_MOST, title=self.title_decides)
        self.estimated_matches = seed.estimated_matches
        # The top 10 of a broad query are mostly title matches, rarer among the newest matches (`dpo`: 6
        # of the 128 most upvoted of the newest 1,000): the seed holds the newest in the title too. Their
        # blocks are read again in the walk, over a floor (`fresh` keeps each match once).
        self.judge(self.fresh(seed.hits))
        return not seed.every

    def fresh(self, hits: list[BlockHit]) -> list[BlockHit]:
        """The hits not read before."""
        out = []
        for hit in hits:
            if hit.seq not in self.seen:
                self.seen.add(hit.seq)
                out.append(hit)
        return out

    def ranges(self, chosen: list[SearchBlock]) -> list[HitRange]:
        """Runs of consecutive chosen blocks, each with the upvote floor its newest day allows."""
        threshold = self.kth()
        out: list[HitRange] = []
        for block in sorted(chosen, key=lambda b: b.block):
            fixed = RELEVANCE_WEIGHT + TITLE_BONUS + RECENCY_WEIGHT * recency(block.max_day, self.today)
            floor = floor_upvotes(threshold, fixed)
            if out and out[-1].last == block.block - 1:
                out[-1] = HitRange(out[-1].first, block.block, min(out[-1].min_upvotes, floor))
            else:
                out.append(HitRange(block.block, block.block, floor))
        if any(r.min_upvotes > 0 for r in out):
            self.floored = True
        return out

    def judge(self, hits: list[BlockHit], *, every: bool = False) -> None:
        """Load and score `hits` best ceiling first, until the rest cannot enter the top k (unless `every`).

        A hit's ceiling first assumes the title bonus. When it reaches the front, the matcher looks at its
        title (when that can decide, `title_flags_hold`); without the query in it, the hit goes back with
        the bonus taken off.
        """
        today = self.today
        # A hit storage found the phrase in the title of keeps the bonus without a look.
        heap = [(-ceiling(h.upvotes, h.day, today), -h.seq, h.in_title is not None, h) for h in hits]
        heapq.heapify(heap)
        batch: list[BlockHit] = []
        while heap:
            bound, order, settled, hit = heap[0]
            if not every and self.beaten(-bound):
                if not batch:
                    break
                self.load(batch)  # the batch may raise the k-th score: look again
                batch = []
                continue
            heapq.heappop(heap)
            if not settled and self.title_decides and not every:
                cut = self.cut(hit)
                if cut > 0:
                    heapq.heappush(heap, (bound + cut, order, True, hit))  # stored negated: lower by `cut`
                    continue
            batch.append(hit)
            if len(batch) == LOAD_BATCH:
                self.load(batch)
                batch = []
        if batch:
            self.load(batch)
        if every:
            self.unjudged = []
        else:
            self.unjudged.extend(hit for _, _, _, hit in heap)

    def cut(self, hit: BlockHit) -> float:
        """How far below its ceiling `hit` certainly scores, from its title and keywords.

        Without the query in the title: no title bonus. Nor in the keywords (and no author asked for):
        its relevance comes from the abstract alone, at most `ABSTRACT_ONLY_RELEVANCE`.
        """
        if may_match_in(self.query, hit.title, "title"):
            return 0.0
        if self.abstract_decides and not may_match_in(self.query, hit.keywords, "keyword"):
            return TITLE_BONUS + RELEVANCE_WEIGHT * (1.0 - ABSTRACT_ONLY_RELEVANCE)
        return TITLE_BONUS

    def load(self, batch: list[BlockHit]) -> None:
        found = self.reads.by_seq([h.seq for h in batch])
        ranked = rank_papers(self.query, list(found.values()), today=self.today)
        self.loaded += len(batch)
        self.kept += len(ranked)
        self.best = sorted([*self.best, *ranked], key=order_key)[: self.limit]

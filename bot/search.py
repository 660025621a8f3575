"""Search over stored papers: full-text candidates from storage, judged exactly, ranked by `bot.ranking`.

Scale (bench/search.py, issue 16): the cost is storage's window, not this module. To order by bm25,
SQLite's FTS5 (like Postgres's ts_rank_cd) scores every match, so a broad term (`llm`: 62,261 of
100,000 papers) costs what raw FTS5 costs, several hundred ms on a loaded machine, and ten times that at
a million papers. Only an index that skips blocks which cannot reach the k-th score (block-max WAND, as
in Lucene or tantivy) avoids it; that index is not built yet. The bench also shows that the window rule
(best bm25 first, the blend reordering those) rarely agrees with the blend applied to every match for
broad terms (0 to 4 of the top 10): recency and upvotes reorder only what bm25 let in.
"""

from __future__ import annotations

from bot.clock import Clock
from bot.ports import PaperStore
from bot.query import TopicQuery, candidate_phrases
from bot.ranking import rank
from bot.types import ListedPaper

# Full-text candidate windows (best BM25 first) that the exact matcher judges and the blend re-ranks.
SEARCH_WINDOWS = (20, 100, 500)
# Queries with no positive text (only filters or exclusions) judge this many recent papers.
SCAN_RECENT = 2000


class Search:
    def __init__(self, papers: PaperStore, clock: Clock) -> None:
        self._papers = papers
        self._clock = clock

    async def run(self, query: TopicQuery, *, limit: int) -> tuple[list[ListedPaper], int]:
        """The best `limit` matches of `query`, and how many papers match in all.

        Storage returns the best BM25 matches in a window (20, then 100, then 500 when too few of them
        pass the exact matcher); the ranking blend of relevance, upvotes and recency orders that window.
        The total ("N more") is exact when the window holds every full-text match, and otherwise the
        full-text count scaled by the share of the window that passed the exact matcher.
        """
        papers = self._papers
        today = self._clock.now().date()
        phrases = candidate_phrases(query)
        if phrases is None:
            # No positive text to look up (filters or exclusions only): judge the most recent papers.
            candidates = [(p, 0.0) for p in await papers.recent(SCAN_RECENT)]
            return rank(query, candidates, today=today, limit=limit)
        for size in SEARCH_WINDOWS:
            window = await papers.search_window(phrases, size)
            shown, matched = rank(query, window.candidates, today=today, limit=limit)
            if len(window.candidates) >= window.total:
                return shown, matched
            if matched > limit:
                break
        estimate = round(window.total * matched / len(window.candidates)) if window.candidates else 0
        return shown, max(matched, estimate)

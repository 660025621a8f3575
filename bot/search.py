"""Search over stored papers: full-text candidates from storage, judged exactly, ranked by `bot.ranking`."""

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

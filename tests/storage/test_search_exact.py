"""`/papers search` finds exactly the top 10 that scoring every match would, while reading few of them.

The reference here is independent of the search's shortcuts: every full-text match is loaded and scored
with `bot.ranking.rank_papers`, no ceiling, no block, no early stop. The archive (7,585 real papers from
May 2023 to November 2025, stored in arrival order) spans eight blocks of 1,024.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

from bot.clock import FixedClock
from bot.query import candidate_phrases, parse
from bot.ranking import order_key, rank_papers
from bot.search import Search
from bot.types import SEARCH_BLOCK, Paper
from storage import Database
from tests.shared_data import ARCHIVE
from tests.storage.archive import paper_from_entry

SEEN = datetime(2025, 12, 1, tzinfo=UTC)

QUERIES = [
    "llm",
    "diffusion",
    'moe OR "mixture of experts"',
    '"video generation"',
    "agent -survey",
    "reasoning benchmark",
    'title:"world model"',
    "keyword:quantization",
    "rl upvotes:>=20",
    "bilevel",
    "dpo OR rlhf",
    '"speech recognition"',
    "zzyzxquux",
]


def archive() -> list[Paper]:
    papers: dict[str, Paper] = {}
    for path in sorted(ARCHIVE.glob("daily_papers_*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8")):
            paper = paper_from_entry(entry)
            papers.setdefault(paper.id, paper)
    # Arrival order, as a bot ingesting the daily lists stores them.
    return sorted(papers.values(), key=lambda p: (p.featured_days or (date.min,))[0])


async def stored(db: Database) -> None:
    papers = archive()
    for i in range(0, len(papers), 1000):
        await db.papers.upsert(papers[i : i + 1000], seen_at=SEEN)


async def exhaustive(db: Database, text: str, today: date) -> tuple[list[str], int]:
    query = parse(text)
    phrases = candidate_phrases(query)
    assert phrases is not None
    window = await db.papers.search_window(phrases, 100_000)
    ranked = rank_papers(query, [p for p, _ in window.candidates], today=today)
    return [p.paper.id for p in sorted(ranked, key=order_key)[:10]], len(ranked)


class CountingStore:
    """The paper store, counting the papers a search loads with their text."""

    def __init__(self, db: Database) -> None:
        self._papers = db.papers
        self.loaded = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._papers, name)

    async def by_seq(self, seqs: list[int]) -> dict[int, Paper]:
        self.loaded += len(seqs)
        return await self._papers.by_seq(seqs)


async def test_search_agrees_with_scoring_every_match(db: Database) -> None:
    await stored(db)
    assert len(await db.papers.search_blocks()) >= 7
    for today in (date(2025, 11, 29), date(2026, 3, 1)):
        search = Search(db.papers, FixedClock(datetime.combine(today, datetime.min.time(), UTC)))
        for text in QUERIES:
            expected, total = await exhaustive(db, text, today)
            result = await search.run(parse(text), limit=10)
            assert [p.paper.id for p in result.shown] == expected, (text, today)
            if result.estimated:
                assert total > 10, text
            else:
                assert result.total == total, text


async def test_a_broad_search_loads_few_of_its_matches(db: Database) -> None:
    await stored(db)
    store = CountingStore(db)
    search = Search(store, FixedClock(datetime(2025, 11, 29, tzinfo=UTC)))  # type: ignore[arg-type]
    _, matches = await exhaustive(db, "llm", date(2025, 11, 29))
    result = await search.run(parse("llm"), limit=10)
    assert matches > 1500
    assert store.loaded < matches / 10, (store.loaded, matches)
    # It stopped early, so the total is an estimate, and says so; it is near the truth.
    assert result.estimated
    assert 0.5 * matches < result.total < 2 * matches


async def test_an_old_paper_that_gains_upvotes_rises_to_the_top(db: Database) -> None:
    """The block ceilings follow upvotes upwards (triggers), so early stopping never skips such a paper."""
    await stored(db)
    old = next(p for p in archive() if "diffusion" in p.title.lower() and p.featured_days[:1] < (date(2024, 1, 1),))
    await db.papers.upsert([replace(old, upvotes=50_000)], seen_at=SEEN)
    search = Search(db.papers, FixedClock(datetime(2025, 11, 29, tzinfo=UTC)))
    result = await search.run(parse("diffusion"), limit=10)
    assert result.shown[0].paper.id == old.id
    blocks = {b.block: b for b in await db.papers.search_blocks()}
    seq = next(s for s, p in (await db.papers.by_seq(range(1, 8000))).items() if p.id == old.id)
    assert blocks[seq // SEARCH_BLOCK].max_upvotes == 50_000


async def test_block_ceilings_cover_every_paper(db: Database) -> None:
    await stored(db)
    found = await db.papers.by_seq(range(1, 8000))
    ceilings = {b.block: b for b in await db.papers.search_blocks()}
    for seq, paper in found.items():
        block = ceilings[seq // SEARCH_BLOCK]
        assert paper.upvotes <= block.max_upvotes
        day = paper.first_featured or (paper.published_at.date() if paper.published_at else None)
        if day is not None:
            assert block.max_day is not None and day <= block.max_day


async def test_an_author_query_without_full_text_still_answers(db: Database) -> None:
    await stored(db)
    search = Search(db.papers, FixedClock(datetime(2025, 11, 29, tzinfo=UTC)))
    result = await search.run(parse('author:"nobody at all"'), limit=10)
    assert result.shown == [] and result.total == 0

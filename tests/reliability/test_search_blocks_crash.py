"""`paperboy ingest` SIGKILLed mid-archive: every stored paper is still under its block's ceilings.

Search skips whole blocks on their ceilings (`paper_blocks`, raised by triggers in the writing
transaction), so a paper stored without its block raised would vanish from search. A real ingest of the
whole archive (26 monthly files, 7,585 papers) is killed once a random number of papers are stored;
whatever was stored is covered, and a broad search still equals scoring every match. A second ingest
completes the archive, and both hold again.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.query import candidate_phrases, parse
from bot.ranking import order_key, rank_papers
from bot.search import Search
from bot.types import SEARCH_BLOCK
from storage import Database
from tests.reliability.support import Bot, run_env, wait_until
from tests.shared_data import ARCHIVE, all_archive_papers

TODAY = date(2025, 11, 29)


def _stored(path: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return 0
    try:
        return int(con.execute("SELECT count(*) FROM papers").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not migrated yet
    finally:
        con.close()


async def _check(url: str) -> int:
    """Ceilings cover every stored paper and `llm`'s top 10 is exact; returns how many papers are stored."""
    db = await Database.connect(url)
    try:
        blocks = {b.block: b for b in await db.papers.search_blocks()}
        async with db.engine.connect() as conn:
            seqs = [row[0] for row in await conn.exec_driver_sql("SELECT seq FROM papers")]
        papers = await db.papers.by_seq(seqs)
        for seq, paper in papers.items():
            block = blocks[seq // SEARCH_BLOCK]
            assert paper.upvotes <= block.max_upvotes, paper.id
            day = paper.first_featured or (paper.published_at.date() if paper.published_at else None)
            assert day is None or (block.max_day is not None and day <= block.max_day), paper.id
        query = parse("llm")
        phrases = candidate_phrases(query)
        assert phrases is not None
        window = await db.papers.search_window(phrases, 100_000)
        expected = sorted(rank_papers(query, [p for p, _ in window.candidates], today=TODAY), key=order_key)[:10]
        search = Search(db.papers, FixedClock(datetime.combine(TODAY, datetime.min.time(), UTC)))
        result = await search.run(query, limit=10)
        assert [p.paper.id for p in result.shown] == [p.paper.id for p in expected]
        return len(papers)
    finally:
        await db.close()


@pytest.mark.parametrize("seed", [5])
async def test_sigkill_during_an_ingest_leaves_every_stored_paper_under_its_ceilings(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "paperboy.db"
    url = f"sqlite+aiosqlite:///{path}"
    total = len({p.id for p in all_archive_papers()})
    env = run_env(PAPERBOY_DATA_DIR=str(tmp_path), PAPERBOY_OFFLINE="true")
    target = rng.randint(1500, 5000)
    bot = await Bot.start(env, tmp_path, tmp_path / "ingest-1.log", "ingest", "--file", str(ARCHIVE))

    def far_enough() -> bool:
        return _stored(path) >= target or bot.process.returncode is not None

    await wait_until(far_enough, within=180, what=f"{target} papers stored")
    bot.kill()
    await bot.wait(30)
    stored = await _check(url)
    assert 0 < stored < total, f"the kill did not land mid-ingest ({stored} of {total}): {bot.tail()}"

    bot = await Bot.start(env, tmp_path, tmp_path / "ingest-2.log", "ingest", "--file", str(ARCHIVE))
    assert await bot.wait(300) == 0, bot.tail()
    assert await _check(url) == total

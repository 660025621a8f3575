"""SQLite's full-text index: no second copy of the text, in step with `papers` through every write."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from bot.types import Paper
from storage import Database
from storage.search import rebuild_search_index

SEEN = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)


def _paper(pid: str, title: str, abstract: str = "An abstract.", **kw: object) -> Paper:
    return Paper(id=pid, title=title, abstract=abstract, featured_days=(date(2025, 11, 3),), **kw)  # type: ignore[arg-type]


async def _sqlite_only(db: Database) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the FTS5 index is SQLite's; Postgres indexes a generated column")


async def _integrity(db: Database) -> None:
    # rank = 1: FTS5 also checks the index against the external content table (papers) itself.
    async with db.engine.begin() as conn:
        await conn.execute(text("INSERT INTO papers_fts (papers_fts, rank) VALUES ('integrity-check', 1)"))


async def _ids(db: Database, word: str) -> list[str]:
    return [p.id for p, _ in await db.papers.search_candidates([[word]], 10)]


async def test_the_index_keeps_no_copy_of_the_text(db: Database) -> None:
    await _sqlite_only(db)
    await db.papers.upsert([_paper("2511.00001", "Sparse experts")], seen_at=SEEN)
    async with db.engine.connect() as conn:
        tables = {r[0] for r in await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    assert "papers_fts" in tables and "papers_fts_content" not in tables
    assert await _ids(db, "experts") == ["2511.00001"]


async def test_updates_reindex_changed_text_and_keep_the_index_sound(db: Database) -> None:
    await _sqlite_only(db)
    await db.papers.upsert([_paper("2511.00001", "Sparse experts"), _paper("2511.00002", "Dense models")], seen_at=SEEN)
    await db.papers.upsert([_paper("2511.00001", "Quantized transformers", upvotes=5)], seen_at=SEEN)
    await db.papers.upsert([_paper("2511.00002", "Dense models", upvotes=9)], seen_at=SEEN)  # votes only
    assert await _ids(db, "experts") == []
    assert await _ids(db, "quantized") == ["2511.00001"]
    assert await _ids(db, "dense") == ["2511.00002"]
    await _integrity(db)


async def test_a_deleted_paper_leaves_the_index(db: Database) -> None:
    await _sqlite_only(db)
    await db.papers.upsert([_paper("2511.00001", "Sparse experts")], seen_at=SEEN)
    async with db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM papers WHERE id = '2511.00001'"))
    assert await _ids(db, "experts") == []
    await _integrity(db)


async def test_a_rebuild_restores_an_emptied_index_from_papers(db: Database) -> None:
    await _sqlite_only(db)
    await db.papers.upsert([_paper("2511.00001", "Sparse experts", ai_keywords=("routing",))], seen_at=SEEN)
    async with db.engine.begin() as conn:
        await conn.execute(text("INSERT INTO papers_fts (papers_fts) VALUES ('delete-all')"))
    assert await _ids(db, "experts") == []
    async with db.engine.begin() as conn:
        await conn.run_sync(rebuild_search_index)
    assert await _ids(db, "experts") == ["2511.00001"]
    assert await _ids(db, "routing") == ["2511.00001"]
    await _integrity(db)

"""Names in every script the archive holds, found as typed on an ASCII keyboard and as spelled.

The archive's own authors: `ł`, `ø`, `đ`, `æ` and `ı` do not decompose into a letter and an accent, so
accent stripping alone (FTS5's `remove_diacritics`, Postgres's `to_tsvector`, NFKD) leaves them as they
are. Both sides fold them (`bot.textnorm.fold` for the matcher and the query, the transliterated forms in
the index), on SQLite and Postgres.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from bot.query import match, parse
from bot.textnorm import words
from bot.types import Paper
from storage import Database
from tests.shared_data import all_archive_papers
from tests.storage.conftest import Backend

SEEN = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)

# (query as typed, the archive's spelling of the author it must find)
CASES = [
    ("author:lukasz", "Łukasz Dudziak"),
    ("author:Łukasz", "Łukasz Dudziak"),
    ('author:"soren riis"', "Søren Riis"),
    ('author:"Søren Riis"', "Søren Riis"),
    ('author:"tran duc huy"', "Tran Đuc Huy"),
    ("author:snaebjarnarson", "Vésteinn Snæbjarnarson"),
    ("author:isik", "Mustafa Işık"),
    ("author:oland", "Anders Øland"),
    ("author:zolna", "Konrad Żołna"),
]


def _archive_paper_by(author: str) -> Paper:
    found = [p for p in all_archive_papers() if author in p.authors]
    assert found, f"{author!r} is not in the archive any more"
    return found[0]


@pytest.mark.parametrize(("query", "author"), CASES)
def test_the_matcher_folds_every_letter(query: str, author: str) -> None:
    paper = _archive_paper_by(author)
    result = match(parse(query), paper)
    assert result is not None and result.reasons == (f"author: {author}",)


def test_a_different_name_still_does_not_match() -> None:
    paper = _archive_paper_by("Łukasz Dudziak")
    assert match(parse("author:lukas"), paper) is None  # word boundaries hold after folding
    assert match(parse("author:ukasz"), paper) is None


async def test_the_index_finds_them_as_typed_and_as_spelled(db: Database) -> None:
    papers = {a: _archive_paper_by(a) for _, a in CASES}
    await db.papers.upsert(list({p.id: p for p in papers.values()}.values()), seen_at=SEEN)
    for query, author in CASES:
        # The query's words as the query language folds them (`"soren riis"`, `"lukasz"`), searched in
        # the full-text index (which holds the author names too) rather than scanned.
        value = query.split(":", 1)[1].strip('"')
        found = {p.id for p, _ in await db.papers.search_candidates([words(value)], 50)}
        assert papers[author].id in found, (query, author)


async def test_the_migration_reindexes_papers_stored_before_it(backend: Backend) -> None:
    """Papers stored under 0003 (no transliterated forms) are found after upgrading to the head."""
    from alembic import command

    from storage.database import alembic_config

    def upgrade_to(connection: object, revision: str) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    database = await backend.open()
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(upgrade_to, "0003_followups")
        paper = _archive_paper_by("Łukasz Dudziak")
        await database.papers.upsert([paper], seen_at=SEEN)
        # What 0003's code indexed: no transliterated forms.
        async with database.engine.begin() as conn:
            await conn.execute(text("UPDATE papers SET joined_text = ''"))
            if backend.name == "sqlite":
                await conn.execute(text("UPDATE papers_fts SET joined = ''"))
        phrases = [["lukasz"]]
        assert await database.papers.search_candidates(phrases, 10) == []
        await database.upgrade()
        found = [p.id for p, _ in await database.papers.search_candidates(phrases, 10)]
        assert found == [paper.id]
        assert await database.papers.get(paper.id) is not None
    finally:
        await database.close()

"""`paperboy db upgrade` SIGKILLed while migration 0004 re-indexes the archive: nothing lost, nothing half-done.

The whole archive (7,585 records) is stored under revision 0003, without transliterated forms. A real
`paperboy db upgrade` is killed once it logs that the re-index is under way (a line per 1,000 papers),
after a random number of batches; the database is then either still at 0003 with no row rewritten or
at 0004 with every row rewritten (the upgrade is one transaction), and holds every paper. A last upgrade finishes, and
`author:lukasz`'s words find the archive's Łukasz through the full-text index.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.textnorm import transliterated
from storage import Database
from storage.database import alembic_config
from tests.reliability.support import Bot, run_env, wait_until
from tests.shared_data import all_archive_papers

SEEN = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)


def _upgrade_to(connection: object, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def _state(url: str) -> tuple[str, int, int]:
    """(revision, papers, papers whose joined text holds a transliterated form)."""
    db = await Database.connect(url)
    try:
        async with db.engine.connect() as conn:
            revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
            papers = (await conn.execute(text("SELECT count(*) FROM papers"))).scalar_one()
            folded = (
                await conn.execute(text("SELECT count(*) FROM papers WHERE joined_text LIKE '%lukasz%'"))
            ).scalar_one()
        return str(revision), int(papers), int(folded)
    finally:
        await db.close()


@pytest.mark.parametrize("seed", [11])
async def test_sigkill_during_the_reindex_leaves_it_all_or_nothing(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    url = f"sqlite+aiosqlite:///{tmp_path / 'paperboy.db'}"
    papers = list(all_archive_papers())
    lukasz = {p.id for p in papers if any("lukasz" in (transliterated(a) or "") for a in p.authors)}
    assert lukasz, "the archive has no Łukasz any more"
    db = await Database.connect(url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0003_followups")
        await db.papers.upsert(papers, seen_at=SEEN)
        async with db.engine.begin() as conn:  # what 0003's code indexed: no transliterated forms
            await conn.execute(text("UPDATE papers SET joined_text = ''"))
            await conn.execute(text("UPDATE papers_fts SET joined = ''"))
    finally:
        await db.close()
    stored = (await _state(url))[1]
    assert stored == len(papers)

    env = run_env(PAPERBOY_DATA_DIR=str(tmp_path), PAPERBOY_OFFLINE="true")
    mid_way = 0
    for attempt in range(3):
        log = tmp_path / f"upgrade-{attempt}.log"
        bot = await Bot.start(env, tmp_path, log, "db", "upgrade")
        batches = rng.randint(1, 2)

        def under_way(log: Path = log, bot: Bot = bot, batches: int = batches) -> bool:
            return log.read_text(errors="replace").count("re-indexing papers") >= batches or (
                bot.process.returncode is not None
            )

        await wait_until(under_way, within=90, what=f"{batches} re-index batches")
        bot.kill()
        await bot.wait(30)
        revision, count, folded = await _state(url)
        mid_way += revision == "0003_followups"
        assert count == stored, bot.tail()
        if revision == "0003_followups":
            assert folded == 0, "a killed upgrade left part of the re-index behind"
        else:
            # The re-index committed (later migrations may or may not have run yet).
            assert revision != "0003_followups" and folded >= len(lukasz)
            break
    assert mid_way, "no kill landed before the upgrade committed: the test tested nothing"
    bot = await Bot.start(env, tmp_path, tmp_path / "upgrade-final.log", "db", "upgrade")
    assert await bot.wait(60) == 0, bot.tail()
    revision, count, folded = await _state(url)
    assert (revision, count) == (_head(), stored) and folded >= len(lukasz)
    db = await Database.connect(url)
    try:
        found = {p.id for p, _ in await db.papers.search_candidates([["lukasz"]], 100)}
        assert lukasz <= found
    finally:
        await db.close()

"""Migrations: one line of history, and an upgrade never loses a row of what users stored.

A rebuild of a table on SQLite (Alembic's batch "move and copy") drops the old table; with foreign keys
on, that cascades and deletes every topic, delivery and posted paper of every channel. These tests put
a row in each table at the first revision, upgrade to the head, and count.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.types import ChannelRef, Paper, Platform, SearchBlock
from storage.database import alembic_config
from tests.storage.conftest import NOW, Backend

TABLES = ("papers", "paper_days", "upvote_samples", "channels", "subscriptions", "deliveries", "posted_papers")

_ROWS = [
    "INSERT INTO papers (id, title, abstract, authors, upvotes, comments, ai_keywords, github_repo, withdrawn,"
    " sources, categories, authors_text, keywords_text, joined_text, first_seen_at, updated_at)"
    " VALUES ('2511.00001', 'T', 'A', '[]', 3, 0, '[]', 'https://github.com/o/r', false, '[\"hf\"]', '[]',"
    " '', '', '', :now, :now)",
    "INSERT INTO paper_days (paper_id, day) VALUES ('2511.00001', '2025-11-10')",
    "INSERT INTO upvote_samples (paper_id, at, upvotes) VALUES ('2511.00001', :now, 3)",
    "INSERT INTO channels (platform, workspace_id, channel_id, digest_time, timezone, digest_enabled,"
    " max_papers, min_upvotes, trending, weekends, empty, created_at)"
    " VALUES ('slack', 'T1', 'C1', '09:00', 'UTC', true, 10, 0, true, true, false, :now)",
    "INSERT INTO subscriptions (channel_pk, query, query_normalised, created_by, created_at)"
    " VALUES (1, 'moe', 'moe', 'U1', :now)",
    "INSERT INTO deliveries (id, channel_pk, kind, key, state, claimed_at, claimed_by, paper_ids)"
    " VALUES ('d1', 1, 'digest', '2025-11-10', 'sent', :now, 'r1', '[\"2511.00001\"]')",
    "INSERT INTO posted_papers (channel_pk, paper_id, delivery_id, posted_at) VALUES (1, '2511.00001', 'd1', :now)",
]


def test_the_history_has_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"migrations branch: {heads} (set down_revision to chain them)"


def _upgrade_to(connection: object, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def test_upgrading_from_the_first_revision_keeps_every_row(backend: Backend) -> None:
    database = await backend.open()
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0001")
            for statement in _ROWS:
                await conn.execute(text(statement), {"now": NOW})
        await database.upgrade()
        async with database.engine.connect() as conn:
            counts = {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES}
            seen = (await conn.execute(text("SELECT code_seen_at FROM papers"))).scalar_one()
        assert counts == dict.fromkeys(TABLES, 1)
        # Code known before the upgrade counts as seen then: nothing already posted is followed up for it.
        assert seen is not None
        channel = await database.channels.get(ChannelRef(Platform.SLACK, "T1", "C1"))
        assert channel is not None and channel.settings.followups and channel.settings.weekly_day is None
    finally:
        await database.close()


async def test_papers_stored_before_the_external_content_index_are_found_after_it(backend: Backend) -> None:
    database = await backend.open()
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0003_followups")
        stored = Paper(id="2511.00009", title="Bilevel routing of sparse experts", abstract="A.", upvotes=1)
        await database.papers.upsert([stored], seen_at=NOW)
        await database.upgrade()
        found = await database.papers.search_candidates([["bilevel"]], 10)
        assert [p.id for p, _ in found] == [stored.id]
    finally:
        await database.close()


async def test_papers_stored_before_the_search_blocks_get_their_ceilings(backend: Backend) -> None:
    database = await backend.open()
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0008_library")
        old = [
            Paper(
                id="2511.00010", title="Bilevel routing", abstract="A.", upvotes=7, featured_days=(date(2025, 11, 3),)
            ),
            Paper(
                id="2511.00011", title="Sparse experts", abstract="B.", upvotes=41, featured_days=(date(2025, 11, 5),)
            ),
        ]
        await database.papers.upsert(old, seen_at=NOW)
        await database.upgrade()
        assert await database.papers.search_blocks() == [SearchBlock(0, 41, date(2025, 11, 5))]
        # ... and the triggers keep them from then on: a paper gaining upvotes raises them.
        await database.papers.upsert([replace(old[0], upvotes=90)], seen_at=NOW)
        assert [b.max_upvotes for b in await database.papers.search_blocks()] == [90]
    finally:
        await database.close()

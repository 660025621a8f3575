"""Uniqueness lives in the database: concurrent subscribes store one topic and never pass the limit; the
inbound log takes each event once; sealed Slack tokens fit their columns.

Run on SQLite and PostgreSQL; on PostgreSQL the writers are two Database objects (two engines, two
connection pools), as two replicas are.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from alembic import command
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from sqlalchemy import select, text

from adapters.slack.installations import SealedInstallationStore, TokenTables
from bot.crypto import SecretBox, generate_key
from bot.types import ChannelRef
from storage import Database
from storage.database import alembic_config
from tests.storage.conftest import GENERAL, NOW, RANDOM, Backend


async def test_concurrent_identical_subscribes_store_one_topic(
    db: Database, replica: Database, general: ChannelRef
) -> None:
    writers = [db, replica] * 10
    added = await asyncio.gather(
        *(
            w.subscriptions.add(general, "SameDup" if i % 2 else "samedup  ", created_by=f"U{i}", now=NOW, limit=25)
            for i, w in enumerate(writers)
        )
    )
    stored = [a for a in added if a is not None]
    assert len(stored) == 1
    assert [s.id for s in await db.subscriptions.list(general)] == [stored[0].id]


async def test_concurrent_subscribes_never_pass_the_limit(db: Database, replica: Database, general: ChannelRef) -> None:
    writers = [db, replica] * 20
    added = await asyncio.gather(
        *(w.subscriptions.add(general, f"topic {i}", created_by="U1", now=NOW, limit=25) for i, w in enumerate(writers))
    )
    assert sum(a is not None for a in added) == 25
    assert await db.subscriptions.count(general) == 25


async def test_the_limit_and_duplicates_are_per_channel(db: Database, general: ChannelRef) -> None:
    await db.channels.ensure(RANDOM, digest_time=NOW.time(), timezone="UTC", now=NOW)
    assert await db.subscriptions.add(general, "moe", created_by="U1", now=NOW, limit=1) is not None
    assert await db.subscriptions.add(general, "MoE", created_by="U1", now=NOW, limit=5) is None
    assert await db.subscriptions.add(general, "other", created_by="U1", now=NOW, limit=1) is None
    assert await db.subscriptions.add(RANDOM, "moe", created_by="U1", now=NOW, limit=1) is not None


async def test_migration_keeps_the_oldest_of_duplicate_topics(backend: Backend) -> None:
    database = await backend.open()
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0001")
            await conn.execute(
                text(
                    "INSERT INTO channels (platform, workspace_id, channel_id, digest_time, timezone, digest_enabled,"
                    " max_papers, min_upvotes, trending, weekends, empty, created_at)"
                    " VALUES ('slack', 'T1', 'C-general', '09:00', 'UTC', true, 10, 0, true, true, false, :now)"
                ),
                {"now": NOW},
            )
            for minutes, query in enumerate(("moe", "diffusion", "moe", "moe", "diffusion")):
                await conn.execute(
                    text(
                        "INSERT INTO subscriptions (channel_pk, query, query_normalised, created_by, created_at)"
                        " VALUES (1, :q, :q, 'U1', :at)"
                    ),
                    {"q": query, "at": NOW + timedelta(minutes=minutes)},
                )
        await database.upgrade()
        kept = await database.subscriptions.list(GENERAL)
        assert [(s.query, s.created_at) for s in kept] == [("moe", NOW), ("diffusion", NOW + timedelta(minutes=1))]
        assert await database.subscriptions.add(GENERAL, "moe", created_by="U2", now=NOW, limit=25) is None
    finally:
        await database.close()


def _upgrade_to(connection: object, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def test_inbound_events_are_taken_once_across_replicas(db: Database, replica: Database) -> None:
    takers = [db.inbound, replica.inbound] * 10
    firsts = await asyncio.gather(*(t.first_time("slack:event", "Ev0PV52K21", now=NOW) for t in takers))
    assert sum(firsts) == 1
    assert await db.inbound.first_time("slack:event", "Ev0PV52K22", now=NOW)
    assert await db.inbound.first_time("discord:interaction", "Ev0PV52K21", now=NOW), "sources are apart"


async def test_inbound_events_are_forgotten_after_the_retention_window(db: Database) -> None:
    assert await db.inbound.first_time("slack:event", "Ev1", now=NOW)
    assert not await db.inbound.first_time("slack:event", "Ev1", now=NOW + timedelta(minutes=59))
    # A replica prunes what is older than an hour when it next records an event.
    later = NOW + timedelta(hours=2)
    fresh = Database(db.engine, db.url)
    assert await fresh.inbound.first_time("slack:event", "Ev2", now=later)
    assert await fresh.inbound.first_time("slack:event", "Ev1", now=later)


async def test_migration_widens_the_token_columns_of_existing_slack_tables(backend: Backend) -> None:
    """Tables an older Paperboy let slack_sdk create keep VARCHAR(200) tokens, too short once sealed."""
    database = await backend.open()
    try:
        async with database.engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0001")
        store = AsyncSQLAlchemyInstallationStore(client_id="111.222", engine=database.engine)
        await store.create_tables()  # type: ignore[no-untyped-call]
        await database.upgrade()
        sealed = "fernet:" + "x" * 400
        async with database.engine.begin() as conn:
            await conn.execute(
                store.bots.insert(),
                {"client_id": "111.222", "app_id": "A1", "team_id": "T1", "bot_token": sealed, "bot_id": "B1",
                 "bot_user_id": "U1", "installed_at": NOW.replace(tzinfo=None)},
            )  # fmt: skip
            stored = (await conn.execute(select(store.bots.c.bot_token))).scalar_one()
        assert stored == sealed
    finally:
        await database.close()


async def test_slack_tables_created_now_take_sealed_tokens(db: Database) -> None:
    tables = TokenTables(client_id="111.222", engine=db.engine)
    await tables.create_tables()  # type: ignore[no-untyped-call]
    store = SealedInstallationStore(tables, SecretBox.from_setting(generate_key()))
    token = "xoxe.xoxb-1-" + "A" * 150  # a rotating token: sealed, well past 200 characters
    await store.async_save(
        Installation(app_id="A1", team_id="T1", bot_token=token, bot_refresh_token=token, bot_id="B1", user_id="U1")
    )
    found = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert found is not None and found.bot_token == token and found.bot_refresh_token == token

"""The Database itself: migrations, health, locks, time zones, source health and the key-value table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.types import ChannelRef, DeliveryKind, Paper
from storage import Database
from storage.database import alembic_config
from tests.storage.conftest import NOW, Backend


async def test_upgrade_is_idempotent_and_keeps_data(db: Database) -> None:
    await db.kv.set("cursor", "2025-11-10")
    await db.upgrade()
    await db.upgrade()
    assert await db.kv.get("cursor") == "2025-11-10"
    async with db.engine.connect() as conn:
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_ping_and_dialect(db: Database, backend: Backend) -> None:
    assert await db.ping() is True
    assert db.dialect == ("postgresql" if backend.name == "postgres" else "sqlite")


async def test_ping_is_false_when_the_database_is_unreachable(tmp_path: Path) -> None:
    db = await Database.connect("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        assert await db.ping() is False
    finally:
        await db.close()


async def test_sqlite_connect_creates_the_folder_and_enables_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "paperboy.db"
    db = await Database.connect(f"sqlite:///{path}")
    try:
        await db.upgrade()
        assert path.exists()
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() > 0
    finally:
        await db.close()


async def test_datetimes_come_back_aware_in_utc(db: Database, general: ChannelRef) -> None:
    paris_evening = datetime(2025, 11, 10, 22, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    await db.channels.set_last_digest(general, paris_evening)
    channel = await db.channels.get(general)
    assert channel is not None and channel.last_digest_at == paris_evening
    assert channel.last_digest_at.tzinfo is not None and channel.last_digest_at.utcoffset() == timedelta(0)
    assert channel.created_at == NOW and channel.created_at.tzinfo is not None

    paper = Paper(id="2511.00001", title="T", abstract="A", published_at=paris_evening)
    await db.papers.upsert([paper], seen_at=paris_evening)
    stored = await db.papers.get(paper.id)
    assert stored is not None and stored.published_at == paris_evening
    assert stored.published_at.tzinfo is UTC or stored.published_at.utcoffset() == timedelta(0)
    [(at, _)] = await db.papers.upvote_history(paper.id)
    assert at == paris_evening and at.tzinfo is not None

    claimed = await db.deliveries.claim(general, DeliveryKind.DIGEST, "k", claimed_by="a", now=paris_evening)
    assert claimed is not None
    got = await db.deliveries.get(claimed.id)
    assert got is not None and got.claimed_at == paris_evening and got.claimed_at.tzinfo is not None


async def test_naive_datetimes_are_refused(db: Database, general: ChannelRef) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        await db.channels.set_last_digest(general, datetime(2025, 11, 10, 9, 0))


async def test_source_health_records_success_and_failure(db: Database) -> None:
    assert await db.sources.all() == []
    await db.sources.record_success("hf", at=NOW, result="412 papers")
    await db.sources.record_failure("arxiv", at=NOW, error="HTTP 503")
    await db.sources.record_failure("hf", at=NOW + timedelta(hours=1), error="timeout")
    hf, arxiv = sorted(await db.sources.all(), key=lambda h: h.source, reverse=True)
    assert (hf.last_success_at, hf.last_result) == (NOW, "412 papers")
    assert (hf.last_error_at, hf.last_error) == (NOW + timedelta(hours=1), "timeout")
    assert arxiv.last_success_at is None and arxiv.last_error == "HTTP 503"


async def test_key_value_set_overwrites(db: Database) -> None:
    assert await db.kv.get("k") is None
    await db.kv.set("k", "1")
    await db.kv.set("k", "2")
    assert await db.kv.get("k") == "2"


async def test_advisory_lock_elects_one_holder(db: Database, replica: Database, backend: Backend) -> None:
    async with db.advisory_lock("ingest") as first:
        assert first is True
        async with replica.advisory_lock("ingest") as second:
            # Postgres: another session cannot take it. SQLite: one process per file, always granted.
            assert second is (backend.name == "sqlite")
        async with replica.advisory_lock("another job") as other:
            assert other is True
    async with replica.advisory_lock("ingest") as after_release:
        assert after_release is True

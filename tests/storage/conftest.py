"""A `db` fixture run against every backend: SQLite in tmp_path, and Postgres when configured.

Postgres tests need PAPERBOY_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test). The test
database is shared, so each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.types import ChannelRef, Platform
from storage import Database
from storage.database import normalise_database_url

POSTGRES_ENV = "PAPERBOY_TEST_POSTGRES_URL"
NOW = datetime(2025, 11, 10, 9, 0, tzinfo=UTC)
GENERAL = ChannelRef(Platform.SLACK, "T1", "C-general")
RANDOM = ChannelRef(Platform.SLACK, "T1", "C-random")
DISCORD = ChannelRef(Platform.DISCORD, "G1", "C-general")


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} not set: Postgres tests skipped")
    return normalise_database_url(url)


async def _postgres_schema(action: str, schema: str) -> None:
    engine = create_async_engine(postgres_url())
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'{action} SCHEMA "{schema}"' + (" CASCADE" if action == "DROP" else "")))
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Backend:
    name: str
    url: str
    schema: str | None

    async def open(self) -> Database:
        return await Database.connect(self.url, schema=self.schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "postgres":
        schema = f"paperboy_test_{uuid.uuid4().hex[:12]}"
        await _postgres_schema("CREATE", schema)
        try:
            yield Backend("postgres", postgres_url(), schema)
        finally:
            await _postgres_schema("DROP", schema)
    else:
        yield Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'data' / 'paperboy.db'}", None)


@pytest.fixture
async def db(backend: Backend) -> AsyncIterator[Database]:
    database = await backend.open()
    try:
        await database.upgrade()
        yield database
    finally:
        await database.close()


@pytest.fixture
async def replica(db: Database, backend: Backend) -> AsyncIterator[Database]:
    """A second Database on the same store: another process / replica."""
    other = await backend.open()
    try:
        yield other
    finally:
        await other.close()


@pytest.fixture
async def general(db: Database) -> ChannelRef:
    await db.channels.ensure(GENERAL, digest_time=time(9, 0), timezone="Europe/Paris", now=NOW)
    return GENERAL

"""Source health for `status`: last success and last error per source."""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.types import SourceHealth
from storage._sql import insert_for
from storage.models import SourceHealthRow

# `today` reads the feed note on every command; a write from another replica (the ingest) shows within
# this many seconds, as the papers' day cache does (storage.papers.DAY_CACHE_SECONDS). Own writes at once.
HEALTH_CACHE_SECONDS = 30.0


class SourceHealthRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str) -> None:
        self._sessions = sessions
        self._dialect = dialect
        self._cached: tuple[float, list[SourceHealth]] | None = None

    async def _upsert(self, source: str, **values: object) -> None:
        stmt = insert_for(self._dialect, SourceHealthRow).values(source=source, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["source"], set_=values)
        self._cached = None
        try:
            async with self._sessions.begin() as session:
                await session.execute(stmt)
        finally:
            self._cached = None  # a read during the write must not keep the old rows

    async def record_success(self, source: str, *, at: datetime, result: str, note: str | None = None) -> None:
        """A fetch that worked; `note` says when it was not a normal day (stale, partial, empty)."""
        await self._upsert(source, last_success_at=at, last_result=result, note=note)

    async def set_note(self, source: str, note: str | None) -> None:
        """What the feed looks like now (a stale, partial or empty day), or None when it looks normal."""
        await self._upsert(source, note=note)

    async def record_failure(self, source: str, *, at: datetime, error: str) -> None:
        await self._upsert(source, last_error_at=at, last_error=error)

    async def all(self) -> list[SourceHealth]:
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < HEALTH_CACHE_SECONDS:
            return list(cached[1])
        fresh = await self._read()
        self._cached = (time.monotonic(), fresh)
        return list(fresh)

    async def _read(self) -> list[SourceHealth]:
        async with self._sessions() as session:
            rows = (await session.execute(select(SourceHealthRow).order_by(SourceHealthRow.source))).scalars()
            return [
                SourceHealth(
                    source=r.source,
                    last_success_at=r.last_success_at,
                    last_error_at=r.last_error_at,
                    last_error=r.last_error,
                    last_result=r.last_result,
                    note=r.note,
                )
                for r in rows
            ]

"""The inbound log (`bot.inbound`) in the database: one row per event taken, shared by every replica.

`first_time` is one `INSERT ... ON CONFLICT DO NOTHING`: of two replicas handed the same event, exactly
one inserts. Rows older than the retention window are deleted now and then by whichever replica inserts.
Every slash command, button and event passes here, so on SQLite the insert runs in one worker-thread hop
on the database's synchronous engine (`storage.database._sync_engine`), not three through aiosqlite.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Engine, Table, bindparam, delete
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.inbound import RETENTION, check_key
from storage._sql import insert_for
from storage.models import InboundEventRow

INBOUND = cast(Table, InboundEventRow.__table__)
PRUNE_EVERY = timedelta(minutes=5)


class InboundRepository:
    def __init__(
        self,
        engine: AsyncEngine,
        dialect: str,
        retention: timedelta = RETENTION,
        *,
        sync_engine: Engine | None = None,
    ) -> None:
        self._engine = engine
        self._sync_engine = sync_engine
        self._dialect = dialect
        self._retention = retention
        self._pruned_at: datetime | None = None
        self._insert = (
            insert_for(dialect, INBOUND)
            .values(source=bindparam("source"), event_id=bindparam("event_id"), seen_at=bindparam("seen_at"))
            .on_conflict_do_nothing(index_elements=["source", "event_id"])
        )

    async def first_time(self, source: str, event_id: str, *, now: datetime) -> bool:
        check_key(source, event_id)
        prune_before: datetime | None = None
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            prune_before = now - self._retention
        key = {"source": source, "event_id": event_id, "seen_at": now}
        if self._sync_engine is not None:
            return await asyncio.to_thread(self._take_in_thread, key, prune_before)
        async with self._engine.begin() as conn:
            return await conn.run_sync(self._take, key, prune_before)

    def _take_in_thread(self, key: dict[str, object], prune_before: datetime | None) -> bool:
        assert self._sync_engine is not None
        with self._sync_engine.begin() as conn:
            return self._take(conn, key, prune_before)

    def _take(self, conn: Connection, key: dict[str, object], prune_before: datetime | None) -> bool:
        if prune_before is not None:
            conn.execute(delete(INBOUND).where(INBOUND.c.seen_at < prune_before))
        return bool(conn.execute(self._insert, key).rowcount)

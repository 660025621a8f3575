"""The inbound log (`bot.inbound`) in the database: one row per event taken, shared by every replica.

`first_time` is one `INSERT ... ON CONFLICT DO NOTHING`: of two replicas handed the same event, exactly
one inserts. Rows older than the retention window are deleted now and then by whichever replica inserts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.inbound import RETENTION, check_key
from storage._sql import insert_for
from storage.models import InboundEventRow

INBOUND = cast(Table, InboundEventRow.__table__)
PRUNE_EVERY = timedelta(minutes=5)


class InboundRepository:
    def __init__(self, engine: AsyncEngine, dialect: str, retention: timedelta = RETENTION) -> None:
        self._engine = engine
        self._dialect = dialect
        self._retention = retention
        self._pruned_at: datetime | None = None

    async def first_time(self, source: str, event_id: str, *, now: datetime) -> bool:
        check_key(source, event_id)
        stmt = (
            insert_for(self._dialect, INBOUND)
            .values(source=source, event_id=event_id, seen_at=now)
            .on_conflict_do_nothing(index_elements=["source", "event_id"])
        )
        async with self._engine.begin() as conn:
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                self._pruned_at = now
                await conn.execute(delete(INBOUND).where(INBOUND.c.seen_at < now - self._retention))
            inserted = (await conn.execute(stmt)).rowcount
        return bool(inserted)

"""Replica leases: each running process holds a row it renews every few seconds.

A claim belongs to a live replica while that replica's lease has not lapsed; `DeliveryRepository.reclaim`
takes over claims whose claimer's lease is gone (liveness, not age).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.types import Replica
from storage.models import ReplicaRow

REPLICAS = cast(Table, ReplicaRow.__table__)


def _to_replica(row: Row[Any]) -> Replica:
    return Replica(row.id, row.host, row.pid, row.started_at, row.expires_at)


class ReplicaRepository:
    def __init__(self, engine: AsyncEngine, dialect: str) -> None:
        self._engine = engine
        self._dialect = dialect

    async def register(self, replica: Replica) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                REPLICAS.insert().values(
                    id=replica.id,
                    host=replica.host,
                    pid=replica.pid,
                    started_at=replica.started_at,
                    renewed_at=replica.started_at,
                    expires_at=replica.expires_at,
                )
            )

    async def renew(self, replica_id: str, *, now: datetime, expires_at: datetime) -> bool:
        """Extend the lease if it is still live; False when it lapsed (peers may have taken its claims over
        meanwhile, so it must not quietly come back to life) or its row is gone (cleaned up)."""
        stmt = (
            update(REPLICAS)
            .where(REPLICAS.c.id == replica_id, REPLICAS.c.expires_at > now)
            .values(renewed_at=now, expires_at=expires_at)
        )
        async with self._engine.begin() as conn:
            return bool((await conn.execute(stmt)).rowcount)

    async def expire(self, replica_ids: list[str], *, now: datetime) -> None:
        """End these leases now (a predecessor found dead at start): their claims can be taken over at once."""
        if not replica_ids:
            return
        stmt = update(REPLICAS).where(REPLICAS.c.id.in_(replica_ids)).values(expires_at=now)
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def release(self, replica_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(REPLICAS).where(REPLICAS.c.id == replica_id))

    async def on_host(self, host: str) -> list[Replica]:
        query = select(REPLICAS).where(REPLICAS.c.host == host).order_by(REPLICAS.c.started_at)
        async with self._engine.connect() as conn:
            return [_to_replica(row) for row in await conn.execute(query)]

    async def live(self, *, now: datetime) -> list[Replica]:
        query = select(REPLICAS).where(REPLICAS.c.expires_at > now).order_by(REPLICAS.c.started_at)
        async with self._engine.connect() as conn:
            return [_to_replica(row) for row in await conn.execute(query)]

    async def forget_lapsed(self, *, before: datetime) -> int:
        """Delete leases that lapsed long ago (housekeeping; a lapsed lease already counts as dead)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(REPLICAS).where(REPLICAS.c.expires_at < before))
        return int(result.rowcount)

"""Delivery claims: post each digest / paper once per channel, and remember every paper ever posted.

A claim is an `INSERT ... ON CONFLICT DO NOTHING` on (channel, kind, key): exactly one claimer wins,
on SQLite and on Postgres alike, however many replicas race for it. A claim stays its claimer's while
the claimer's lease (`storage.replicas`) is live, however long the delivery takes; once the lease
lapses, one conditional UPDATE hands it to exactly one taker. Each part of a delivery (the channel
message, thread replies, follow-ups) is recorded as it lands, so a taker posts only what is missing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.types import ChannelRef, Delivery, DeliveryKind, DeliveryState
from storage._sql import CHANNEL_PK, channel_params, insert_for, ref_of, require_channel_pk
from storage.models import ChannelRow, DeliveryPartRow, DeliveryRow, PostedPaperRow
from storage.replicas import REPLICAS

# Every digest claims, records and reads here: plain Core statements on connections (no ORM unit of
# work), about half the CPU of a session per statement.
DELIVERIES = cast(Table, DeliveryRow.__table__)
POSTED = cast(Table, PostedPaperRow.__table__)
PARTS = cast(Table, DeliveryPartRow.__table__)
_CHANNELS = cast(Table, ChannelRow.__table__)
_WITH_CHANNEL = select(DELIVERIES, _CHANNELS.c.platform, _CHANNELS.c.workspace_id, _CHANNELS.c.channel_id).join(
    _CHANNELS, _CHANNELS.c.id == DELIVERIES.c.channel_pk
)
# Built once, bound per call (see storage._sql.CHANNEL_PK): what every digest of a fan-out runs.
_BY_KEY = _WITH_CHANNEL.where(
    DELIVERIES.c.channel_pk == CHANNEL_PK.scalar_subquery(),
    DELIVERIES.c.kind == bindparam("d_kind"),
    DELIVERIES.c.key == bindparam("d_key"),
)
_MARK_SENT = (
    update(DELIVERIES)
    .where(DELIVERIES.c.id == bindparam("d_id"))
    .values(
        state=DeliveryState.SENT.value,
        message_id=bindparam("d_message_id"),
        finished_at=bindparam("d_now"),
        error=None,
    )
    .returning(DELIVERIES.c.channel_pk, DELIVERIES.c.paper_ids)
)
_POSTED_IDS = select(POSTED.c.paper_id).where(POSTED.c.channel_pk == CHANNEL_PK.scalar_subquery())
_PARTS = select(PARTS.c.position, PARTS.c.message_id).where(PARTS.c.delivery_id == bindparam("d_id"))


def _up_for_takeover(now: datetime, replica_id: str) -> ColumnElement[bool]:
    """FAILED, or CLAIMED by a claimer without a live lease (or by `replica_id` itself, which asks only for
    claims it no longer has in flight)."""
    live = select(REPLICAS.c.id).where(REPLICAS.c.expires_at > now)
    return or_(
        DELIVERIES.c.state == DeliveryState.FAILED.value,
        and_(
            DELIVERIES.c.state == DeliveryState.CLAIMED.value,
            or_(DELIVERIES.c.claimed_by.not_in(live), DELIVERIES.c.claimed_by == replica_id),
        ),
    )


def _to_delivery(row: Row[Any], ref: ChannelRef) -> Delivery:
    return Delivery(
        id=row.id,
        channel=ref,
        kind=DeliveryKind(row.kind),
        key=row.key,
        state=DeliveryState(row.state),
        claimed_at=row.claimed_at,
        claimed_by=row.claimed_by,
        message_id=row.message_id,
        finished_at=row.finished_at,
        error=row.error,
        paper_ids=tuple(row.paper_ids),
        content=row.content,
    )


class DeliveryRepository:
    def __init__(self, engine: AsyncEngine, dialect: str) -> None:
        self._engine = engine
        self._dialect = dialect
        # Dialect-specific, so built here; column values are bound per call.
        self._claim = (
            insert_for(dialect, DELIVERIES)
            .on_conflict_do_nothing(index_elements=["channel_pk", "kind", "key"])
            .returning(DELIVERIES.c.id)
        )
        self._record = insert_for(dialect, POSTED).on_conflict_do_nothing(index_elements=["channel_pk", "paper_id"])
        self._record_part = insert_for(dialect, PARTS).on_conflict_do_nothing(
            index_elements=["delivery_id", "position"]
        )

    async def _one(self, conn: AsyncConnection, *where: ColumnElement[bool]) -> Delivery | None:
        row = (await conn.execute(_WITH_CHANNEL.where(*where))).first()
        return None if row is None else _to_delivery(row, ref_of(row))

    async def claim(
        self,
        ref: ChannelRef,
        kind: DeliveryKind,
        key: str,
        *,
        claimed_by: str,
        now: datetime,
        paper_ids: Sequence[str] = (),
        content: str | None = None,
    ) -> Delivery | None:
        """Claim (channel, kind, key): the new CLAIMED Delivery, or None when someone already holds it."""
        delivery_id = uuid.uuid4().hex
        async with self._engine.begin() as conn:
            pk = await require_channel_pk(conn, ref)
            values = {
                "id": delivery_id,
                "channel_pk": pk,
                "kind": kind.value,
                "key": key,
                "state": DeliveryState.CLAIMED.value,
                "claimed_at": now,
                "claimed_by": claimed_by,
                "message_id": None,
                "finished_at": None,
                "error": None,
                "paper_ids": list(paper_ids),
                "content": content,
            }
            won = (await conn.execute(self._claim, values)).scalar_one_or_none()
        if won is None:
            return None
        return Delivery(
            id=delivery_id,
            channel=ref,
            kind=kind,
            key=key,
            state=DeliveryState.CLAIMED,
            claimed_at=now,
            claimed_by=claimed_by,
            paper_ids=tuple(paper_ids),
            content=content,
        )

    async def reclaim(self, delivery_id: str, *, claimed_by: str, now: datetime) -> Delivery | None:
        """Take over a FAILED delivery, or a CLAIMED one whose claimer's lease has lapsed.

        A live claimer is never robbed, however long it takes. One conditional UPDATE, so of several
        replicas trying at once exactly one gets it. `claimed_at` is kept: it is when the delivery
        started, which recovery looks back to for what already landed.
        """
        stmt = (
            update(DELIVERIES)
            .where(DELIVERIES.c.id == delivery_id, _up_for_takeover(now, claimed_by))
            .values(state=DeliveryState.CLAIMED.value, claimed_by=claimed_by, finished_at=None)
            .returning(DELIVERIES.c.id)
        )
        async with self._engine.begin() as conn:
            if (await conn.execute(stmt)).scalar_one_or_none() is None:
                return None
            return await self._one(conn, DELIVERIES.c.id == delivery_id)

    async def get(self, delivery_id: str) -> Delivery | None:
        async with self._engine.connect() as conn:
            return await self._one(conn, DELIVERIES.c.id == delivery_id)

    async def get_by_key(self, ref: ChannelRef, kind: DeliveryKind, key: str) -> Delivery | None:
        async with self._engine.connect() as conn:
            params = {**channel_params(ref), "d_kind": kind.value, "d_key": key}
            row = (await conn.execute(_BY_KEY, params)).first()
        return None if row is None else _to_delivery(row, ref)

    async def mark_sent(self, delivery_id: str, *, message_id: str, now: datetime) -> None:
        """SENT with the platform's message id; its papers join the channel's posted set in the same transaction."""
        params = {"d_id": delivery_id, "d_message_id": message_id, "d_now": now}
        async with self._engine.begin() as conn:
            row = (await conn.execute(_MARK_SENT, params)).first()
            if row is None:
                raise LookupError(f"unknown delivery {delivery_id}")
            await self._record_posted(conn, row.channel_pk, row.paper_ids, delivery_id=delivery_id, now=now)

    async def _finish(self, delivery_id: str, state: DeliveryState, error: str, now: datetime) -> None:
        stmt = (
            update(DELIVERIES)
            .where(DELIVERIES.c.id == delivery_id)
            .values(state=state.value, error=error, finished_at=now)
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def mark_failed(self, delivery_id: str, *, error: str, now: datetime) -> None:
        await self._finish(delivery_id, DeliveryState.FAILED, error, now)

    async def mark_skipped(self, delivery_id: str, *, reason: str, now: datetime) -> None:
        await self._finish(delivery_id, DeliveryState.SKIPPED, reason, now)

    async def unfinished(self, *, now: datetime, replica_id: str) -> list[Delivery]:
        """Candidates for recovery: FAILED, or CLAIMED by a replica whose lease lapsed (or by `replica_id`)."""
        query = _WITH_CHANNEL.where(_up_for_takeover(now, replica_id)).order_by(
            DELIVERIES.c.claimed_at, DELIVERIES.c.id
        )
        async with self._engine.connect() as conn:
            return [_to_delivery(row, ref_of(row)) for row in await conn.execute(query)]

    async def last_for_channel(self, ref: ChannelRef, kind: DeliveryKind | None = None) -> Delivery | None:
        query = select(DELIVERIES).where(DELIVERIES.c.channel_pk == CHANNEL_PK.scalar_subquery())
        if kind is not None:
            query = query.where(DELIVERIES.c.kind == kind.value)
        query = query.order_by(DELIVERIES.c.claimed_at.desc(), DELIVERIES.c.id.desc()).limit(1)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query, channel_params(ref))).first()
        return None if row is None else _to_delivery(row, ref)

    async def parts(self, delivery_id: str) -> dict[int, str]:
        """The parts of a delivery that landed: position -> the platform's message id."""
        async with self._engine.connect() as conn:
            return {row.position: row.message_id for row in await conn.execute(_PARTS, {"d_id": delivery_id})}

    async def record_part(self, delivery_id: str, position: int, message_id: str, *, now: datetime) -> None:
        """Remember that part `position` landed as `message_id` (recording it twice changes nothing)."""
        values = {"delivery_id": delivery_id, "position": position, "message_id": message_id, "posted_at": now}
        async with self._engine.begin() as conn:
            await conn.execute(self._record_part, values)

    async def held_by(self, delivery_id: str, replica_id: str) -> bool:
        """Whether the delivery is still CLAIMED by `replica_id` (no peer took it over, nobody finished it)."""
        query = select(DELIVERIES.c.id).where(
            DELIVERIES.c.id == delivery_id,
            DELIVERIES.c.claimed_by == replica_id,
            DELIVERIES.c.state == DeliveryState.CLAIMED.value,
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def posted_paper_ids(self, ref: ChannelRef) -> set[str]:
        async with self._engine.connect() as conn:
            return set((await conn.execute(_POSTED_IDS, channel_params(ref))).scalars())

    async def record_posted(
        self, ref: ChannelRef, paper_ids: Sequence[str], *, delivery_id: str, now: datetime
    ) -> None:
        """Remember papers as posted in this channel; already-recorded ones are left as they are."""
        async with self._engine.begin() as conn:
            pk = await require_channel_pk(conn, ref)
            await self._record_posted(conn, pk, paper_ids, delivery_id=delivery_id, now=now)

    async def _record_posted(
        self, conn: AsyncConnection, pk: int, paper_ids: Sequence[str], *, delivery_id: str, now: datetime
    ) -> None:
        unique = list(dict.fromkeys(paper_ids))
        if not unique:
            return
        await conn.execute(
            self._record,
            [{"channel_pk": pk, "paper_id": pid, "delivery_id": delivery_id, "posted_at": now} for pid in unique],
        )

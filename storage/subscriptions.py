"""Topic subscriptions, always scoped to one channel: another channel's id is "not found".

Plain Core statements on connections (every digest of a fan-out reads its channel's topics here).
One topic per (channel, normalised query) is the database's unique index, not a check before the
insert, and the per-channel limit is counted inside the insert, with the channel's row locked on
PostgreSQL: concurrent subscribes can neither double a topic nor pass the limit.
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, delete, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.types import ChannelRef, Subscription
from storage._sql import CHANNEL_PK, channel_params, insert_for, ref_of
from storage.models import ChannelRow, SubscriptionRow

SUBSCRIPTIONS = cast(Table, SubscriptionRow.__table__)
_CHANNELS = cast(Table, ChannelRow.__table__)
# A channel's topics, bound with channel_params (built once: every digest of a fan-out reads them).
_OF_CHANNEL = (
    select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.channel_pk == CHANNEL_PK.scalar_subquery()).order_by(SUBSCRIPTIONS.c.id)
)


def normalise_query(query: str) -> str:
    """The form `find` compares: case-insensitive, whitespace collapsed."""
    return " ".join(query.casefold().split())


def _to_subscription(row: Row[Any], ref: ChannelRef) -> Subscription:
    return Subscription(id=row.id, channel=ref, query=row.query, created_by=row.created_by, created_at=row.created_at)


class SubscriptionRepository:
    def __init__(self, engine: AsyncEngine, dialect: str) -> None:
        self._engine = engine
        self._dialect = dialect

    async def add(
        self, ref: ChannelRef, query: str, *, created_by: str, now: datetime, limit: int
    ) -> Subscription | None:
        """Store a topic; None when the channel follows an equal query already or has `limit` topics.

        The channel must exist (`ChannelRepository.ensure`), else LookupError.
        """
        async with self._engine.begin() as conn:
            # FOR UPDATE (PostgreSQL; SQLite renders none and serialises writers instead) holds the other
            # subscribes of this channel until this one commits, so each counts the topics the last one left.
            pk = (await conn.execute(CHANNEL_PK.with_for_update(), channel_params(ref))).scalar_one_or_none()
            if pk is None:
                raise LookupError(f"unknown channel {ref.key}: call ChannelRepository.ensure() first")
            topics = select(func.count()).select_from(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.channel_pk == pk)
            row = select(
                literal(pk),
                literal(query),
                literal(normalise_query(query)),
                literal(created_by),
                literal(now, SUBSCRIPTIONS.c.created_at.type),
                literal(1),
            ).where(topics.scalar_subquery() < limit)
            stmt = (
                insert_for(self._dialect, SUBSCRIPTIONS)
                .from_select(
                    ["channel_pk", "query", "query_normalised", "created_by", "created_at", "parser_version"], row
                )
                .on_conflict_do_nothing(index_elements=["channel_pk", "query_normalised"])
                .returning(SUBSCRIPTIONS.c.id)
            )
            sub_id = (await conn.execute(stmt)).scalar_one_or_none()
        if sub_id is None:
            return None
        return Subscription(id=sub_id, channel=ref, query=query, created_by=created_by, created_at=now)

    async def _select(self, ref: ChannelRef, *where: ColumnElement[bool]) -> builtins.list[Subscription]:
        query = _OF_CHANNEL.where(*where) if where else _OF_CHANNEL
        async with self._engine.connect() as conn:
            return [_to_subscription(row, ref) for row in await conn.execute(query, channel_params(ref))]

    async def list(self, ref: ChannelRef) -> builtins.list[Subscription]:
        return await self._select(ref)

    async def get(self, ref: ChannelRef, sub_id: int) -> Subscription | None:
        found = await self._select(ref, SUBSCRIPTIONS.c.id == sub_id)
        return found[0] if found else None

    async def find(self, ref: ChannelRef, query: str) -> Subscription | None:
        found = await self._select(ref, SUBSCRIPTIONS.c.query_normalised == normalise_query(query))
        return found[0] if found else None

    async def set_query(self, ref: ChannelRef, sub_id: int, query: str) -> Subscription | None:
        """Change one topic's query, keeping its id and start (so no match since the last digest is lost).

        None when the channel has no such topic or already follows an equal query (the unique index).
        """
        stmt = (
            update(SUBSCRIPTIONS)
            .where(SUBSCRIPTIONS.c.id == sub_id, SUBSCRIPTIONS.c.channel_pk == CHANNEL_PK.scalar_subquery())
            .values(query=query, query_normalised=normalise_query(query))
        )
        try:
            async with self._engine.begin() as conn:
                changed = (await conn.execute(stmt, channel_params(ref))).rowcount
        except IntegrityError:
            return None
        return await self.get(ref, sub_id) if changed else None

    async def remove(self, ref: ChannelRef, sub_id: int) -> bool:
        stmt = delete(SUBSCRIPTIONS).where(
            SUBSCRIPTIONS.c.id == sub_id,
            SUBSCRIPTIONS.c.channel_pk == CHANNEL_PK.scalar_subquery(),
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(stmt, channel_params(ref))
        return bool(result.rowcount)

    async def count(self, ref: ChannelRef) -> int:
        query = (
            select(func.count())
            .select_from(SUBSCRIPTIONS)
            .where(SUBSCRIPTIONS.c.channel_pk == CHANNEL_PK.scalar_subquery())
        )
        async with self._engine.connect() as conn:
            count: int = (await conn.execute(query, channel_params(ref))).scalar_one()
            return count

    async def all_by_channel(self) -> dict[ChannelRef, builtins.list[Subscription]]:
        """Every subscription, grouped by channel (channels without topics are absent)."""
        query = (
            select(SUBSCRIPTIONS, _CHANNELS.c.platform, _CHANNELS.c.workspace_id, _CHANNELS.c.channel_id)
            .join(_CHANNELS, _CHANNELS.c.id == SUBSCRIPTIONS.c.channel_pk)
            .order_by(SUBSCRIPTIONS.c.id)
        )
        grouped: dict[ChannelRef, builtins.list[Subscription]] = defaultdict(builtins.list)
        async with self._engine.connect() as conn:
            for row in await conn.execute(query):
                ref = ref_of(row)
                grouped[ref].append(_to_subscription(row, ref))
        return dict(grouped)

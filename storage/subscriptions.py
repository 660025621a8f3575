"""Topic subscriptions, always scoped to one channel: another channel's id is "not found"."""

from __future__ import annotations

import builtins
from collections import defaultdict
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.types import ChannelRef, Subscription
from storage._sql import channel_pk_query, ref_of, require_channel_pk
from storage.models import ChannelRow, SubscriptionRow


def normalise_query(query: str) -> str:
    """The form `find` compares: case-insensitive, whitespace collapsed."""
    return " ".join(query.casefold().split())


def _to_subscription(row: SubscriptionRow, ref: ChannelRef) -> Subscription:
    return Subscription(id=row.id, channel=ref, query=row.query, created_by=row.created_by, created_at=row.created_at)


class SubscriptionRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str) -> None:
        self._sessions = sessions
        self._dialect = dialect

    async def add(self, ref: ChannelRef, query: str, *, created_by: str, now: datetime) -> Subscription:
        """Store a topic. The channel must exist (`ChannelRepository.ensure`), else LookupError."""
        async with self._sessions.begin() as session:
            pk = await require_channel_pk(session, ref)
            stmt = (
                insert(SubscriptionRow)
                .values(
                    channel_pk=pk,
                    query=query,
                    query_normalised=normalise_query(query),
                    created_by=created_by,
                    created_at=now,
                    parser_version=1,
                )
                .returning(SubscriptionRow.id)
            )
            sub_id = (await session.execute(stmt)).scalar_one()
        return Subscription(id=sub_id, channel=ref, query=query, created_by=created_by, created_at=now)

    async def _select(self, ref: ChannelRef, *where: ColumnElement[bool]) -> builtins.list[Subscription]:
        query = (
            select(SubscriptionRow)
            .where(SubscriptionRow.channel_pk == channel_pk_query(ref).scalar_subquery(), *where)
            .order_by(SubscriptionRow.id)
        )
        async with self._sessions() as session:
            return [_to_subscription(row, ref) for row in (await session.execute(query)).scalars()]

    async def list(self, ref: ChannelRef) -> builtins.list[Subscription]:
        return await self._select(ref)

    async def get(self, ref: ChannelRef, sub_id: int) -> Subscription | None:
        found = await self._select(ref, SubscriptionRow.id == sub_id)
        return found[0] if found else None

    async def find(self, ref: ChannelRef, query: str) -> Subscription | None:
        found = await self._select(ref, SubscriptionRow.query_normalised == normalise_query(query))
        return found[0] if found else None

    async def remove(self, ref: ChannelRef, sub_id: int) -> bool:
        stmt = delete(SubscriptionRow).where(
            SubscriptionRow.id == sub_id,
            SubscriptionRow.channel_pk == channel_pk_query(ref).scalar_subquery(),
        )
        async with self._sessions.begin() as session:
            result = await session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def count(self, ref: ChannelRef) -> int:
        query = (
            select(func.count())
            .select_from(SubscriptionRow)
            .where(SubscriptionRow.channel_pk == channel_pk_query(ref).scalar_subquery())
        )
        async with self._sessions() as session:
            return (await session.execute(query)).scalar_one()

    async def all_by_channel(self) -> dict[ChannelRef, builtins.list[Subscription]]:
        """Every subscription, grouped by channel (channels without topics are absent)."""
        query = (
            select(SubscriptionRow, ChannelRow)
            .join(ChannelRow, ChannelRow.id == SubscriptionRow.channel_pk)
            .order_by(SubscriptionRow.id)
        )
        grouped: dict[ChannelRef, builtins.list[Subscription]] = defaultdict(builtins.list)
        async with self._sessions() as session:
            for sub, channel in await session.execute(query):
                ref = ref_of(channel)
                grouped[ref].append(_to_subscription(sub, ref))
        return dict(grouped)

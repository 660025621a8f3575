"""Small helpers shared by the repositories: dialect-specific INSERT and channel lookups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.types import ChannelRef, Platform
from storage.models import ChannelRow


def insert_for(dialect: str, table: Any) -> Any:
    """An INSERT that supports `on_conflict_do_nothing` / `on_conflict_do_update` on the running backend."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported database dialect {dialect!r}")


def channel_pk_query(ref: ChannelRef) -> Select[Any]:
    # Table columns, not ORM attributes: the statement stays plain Core on a connection or a session.
    channels = ChannelRow.__table__.c
    return select(channels.id).where(
        channels.platform == ref.platform.value,
        channels.workspace_id == ref.workspace_id,
        channels.channel_id == ref.channel_id,
    )


async def channel_pk(executor: AsyncSession | AsyncConnection, ref: ChannelRef) -> int | None:
    pk: int | None = (await executor.execute(channel_pk_query(ref))).scalar_one_or_none()
    return pk


async def require_channel_pk(executor: AsyncSession | AsyncConnection, ref: ChannelRef) -> int:
    pk = await channel_pk(executor, ref)
    if pk is None:
        raise LookupError(f"unknown channel {ref.key}: call ChannelRepository.ensure() first")
    return pk


def ref_of(row: ChannelRow | Row[Any]) -> ChannelRef:
    return ChannelRef(Platform(row.platform), row.workspace_id, row.channel_id)

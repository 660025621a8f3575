"""Small helpers shared by the repositories: dialect-specific INSERT and channel lookups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.types import ChannelRef, Platform
from storage.models import ChannelRow


def insert_for(dialect: str, table: Any) -> Any:
    """An INSERT that supports `on_conflict_do_nothing` / `on_conflict_do_update` on the running backend."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported database dialect {dialect!r}")


def channel_pk_query(ref: ChannelRef) -> Select[int]:
    return select(ChannelRow.id).where(
        ChannelRow.platform == ref.platform.value,
        ChannelRow.workspace_id == ref.workspace_id,
        ChannelRow.channel_id == ref.channel_id,
    )


async def channel_pk(session: AsyncSession, ref: ChannelRef) -> int | None:
    return (await session.execute(channel_pk_query(ref))).scalar_one_or_none()


async def require_channel_pk(session: AsyncSession, ref: ChannelRef) -> int:
    pk = await channel_pk(session, ref)
    if pk is None:
        raise LookupError(f"unknown channel {ref.key}: call ChannelRepository.ensure() first")
    return pk


def ref_of(row: ChannelRow) -> ChannelRef:
    return ChannelRef(Platform(row.platform), row.workspace_id, row.channel_id)

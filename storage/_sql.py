"""Small helpers shared by the repositories: dialect-specific INSERT and channel lookups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, select
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


_CHANNEL_COLUMNS = ChannelRow.__table__.c

THIS_CHANNEL: tuple[ColumnElement[bool], ...] = (
    _CHANNEL_COLUMNS.platform == bindparam("ch_platform"),
    _CHANNEL_COLUMNS.workspace_id == bindparam("ch_workspace"),
    _CHANNEL_COLUMNS.channel_id == bindparam("ch_channel"),
)
"""The channels row of one channel, bound with `channel_params(ref)`. Statements that run for every
channel of a fan-out are built once like this (table columns, bound parameters): SQLAlchemy then builds,
keys and compiles each of them once, instead of on every call."""

CHANNEL_PK: Select[Any] = select(_CHANNEL_COLUMNS.id).where(*THIS_CHANNEL)
"""A channel's primary key, bound with `channel_params(ref)`."""


def channel_params(ref: ChannelRef) -> dict[str, str]:
    return {"ch_platform": ref.platform.value, "ch_workspace": ref.workspace_id, "ch_channel": ref.channel_id}


async def channel_pk(executor: AsyncSession | AsyncConnection, ref: ChannelRef) -> int | None:
    pk: int | None = (await executor.execute(CHANNEL_PK, channel_params(ref))).scalar_one_or_none()
    return pk


async def require_channel_pk(executor: AsyncSession | AsyncConnection, ref: ChannelRef) -> int:
    pk = await channel_pk(executor, ref)
    if pk is None:
        raise LookupError(f"unknown channel {ref.key}: call ChannelRepository.ensure() first")
    return pk


def ref_of(row: ChannelRow | Row[Any]) -> ChannelRef:
    return ChannelRef(Platform(row.platform), row.workspace_id, row.channel_id)

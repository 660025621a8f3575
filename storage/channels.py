"""Channels: digest time and timezone, per-channel settings, pause state.

Every digest of a fan-out reads its channel and records its time here, so these are plain Core
statements on a connection: no ORM unit of work, about half the CPU of a session per statement.

Every command asks whether the person's direct messages are paused (`bot.features.follows.PausedFollows`),
so `paused_inboxes` answers from a snapshot of them all, read again every `PAUSED_REFRESH` seconds or at
once after this process paused or resumed a channel. Another replica's pause shows within the refresh.
"""

from __future__ import annotations

import time as monotonic_time
from collections.abc import Callable, Mapping
from datetime import datetime, time
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.types import DM_PREFIX, Channel, ChannelRef, ChannelSettings, Platform
from storage._sql import THIS_CHANNEL, channel_params, insert_for, ref_of
from storage.models import ChannelRow

UNINSTALLED = "app uninstalled"
CHANNELS = cast(Table, ChannelRow.__table__)
# Built once, bound with storage._sql.channel_params: every digest of a fan-out reads its channel and
# records its time.
_GET = select(CHANNELS).where(*THIS_CHANNEL)
_SET_LAST_DIGEST = update(CHANNELS).where(*THIS_CHANNEL).values(last_digest_at=bindparam("c_at"))
_PAUSED_INBOXES = select(
    CHANNELS.c.platform, CHANNELS.c.workspace_id, CHANNELS.c.channel_id, CHANNELS.c.paused_reason
).where(CHANNELS.c.paused_reason.is_not(None), CHANNELS.c.channel_id.startswith(DM_PREFIX, autoescape=True))
PAUSED_REFRESH = 30.0
"""Seconds a snapshot of the paused inboxes is used for: how late another replica's pause may be told."""


def _hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _to_channel(row: Row[Any]) -> Channel:
    hour, minute = row.digest_time.split(":")
    return Channel(
        ref=ref_of(row),
        digest_time=time(int(hour), int(minute)),
        timezone=row.timezone,
        digest_enabled=row.digest_enabled,
        settings=ChannelSettings(
            max_papers=row.max_papers,
            min_upvotes=row.min_upvotes,
            trending=row.trending,
            weekends=row.weekends,
            empty=row.empty,
            followups=row.followups,
            rising=row.rising,
            weekly_day=row.weekly_day,
            threads=row.threads,
            learning=row.learning,
            learn_trending=row.learn_trending,
            votes_shown=row.votes_shown,
        ),
        paused_reason=row.paused_reason,
        last_digest_at=row.last_digest_at,
        created_at=row.created_at,
    )


class ChannelRepository:
    def __init__(
        self,
        engine: AsyncEngine,
        dialect: str,
        *,
        paused_refresh: float = PAUSED_REFRESH,
        monotonic: Callable[[], float] = monotonic_time.monotonic,
    ) -> None:
        self._engine = engine
        self._dialect = dialect
        self._paused_refresh = paused_refresh
        self._monotonic = monotonic
        self._paused: dict[ChannelRef, str] = {}
        self._paused_read_at: float | None = None
        self._pause_changes = 0  # bumped by this process's pauses and resumes: a snapshot older is stale

    async def paused_inboxes(self) -> Mapping[ChannelRef, str]:
        """Every paused direct-message channel (`ChannelRef.dm`) and why, as of the last snapshot."""
        now = self._monotonic()
        if self._paused_read_at is not None and now - self._paused_read_at < self._paused_refresh:
            return self._paused
        changes = self._pause_changes
        async with self._engine.connect() as conn:
            rows = (await conn.execute(_PAUSED_INBOXES)).all()
        paused = {ChannelRef(Platform(r.platform), r.workspace_id, r.channel_id): r.paused_reason for r in rows}
        if changes == self._pause_changes:  # no pause or resume here while reading: the snapshot holds
            self._paused, self._paused_read_at = paused, now
        return paused

    def _pauses_changed(self) -> None:
        self._pause_changes += 1
        self._paused_read_at = None

    async def _get(self, conn: AsyncConnection, ref: ChannelRef) -> Channel | None:
        row = (await conn.execute(_GET, channel_params(ref))).first()
        return None if row is None else _to_channel(row)

    async def get(self, ref: ChannelRef) -> Channel | None:
        async with self._engine.connect() as conn:
            return await self._get(conn, ref)

    async def ensure(self, ref: ChannelRef, *, digest_time: time, timezone: str, now: datetime) -> Channel:
        """The channel, created with these defaults if new. Safe when several replicas race to create it."""
        defaults = ChannelSettings()
        stmt = (
            insert_for(self._dialect, CHANNELS)
            .values(
                platform=ref.platform.value,
                workspace_id=ref.workspace_id,
                channel_id=ref.channel_id,
                digest_time=_hhmm(digest_time),
                timezone=timezone,
                digest_enabled=True,
                max_papers=defaults.max_papers,
                min_upvotes=defaults.min_upvotes,
                trending=defaults.trending,
                weekends=defaults.weekends,
                empty=defaults.empty,
                followups=defaults.followups,
                rising=defaults.rising,
                weekly_day=defaults.weekly_day,
                threads=defaults.threads,
                learning=defaults.learning,
                learn_trending=defaults.learn_trending,
                votes_shown=defaults.votes_shown,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["platform", "workspace_id", "channel_id"])
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)
            channel = await self._get(conn, ref)
        assert channel is not None  # just inserted, or already there
        return channel

    async def update(
        self,
        ref: ChannelRef,
        *,
        digest_time: time | None = None,
        timezone: str | None = None,
        digest_enabled: bool | None = None,
        settings: ChannelSettings | None = None,
    ) -> Channel:
        """Change what is given, leave the rest. Raises LookupError for an unknown channel."""
        values: dict[str, object] = {}
        if digest_time is not None:
            values["digest_time"] = _hhmm(digest_time)
        if timezone is not None:
            values["timezone"] = timezone
        if digest_enabled is not None:
            values["digest_enabled"] = digest_enabled
        if settings is not None:
            values.update(
                max_papers=settings.max_papers,
                min_upvotes=settings.min_upvotes,
                trending=settings.trending,
                weekends=settings.weekends,
                empty=settings.empty,
                followups=settings.followups,
                rising=settings.rising,
                weekly_day=settings.weekly_day,
                threads=settings.threads,
                learning=settings.learning,
                learn_trending=settings.learn_trending,
                votes_shown=settings.votes_shown,
            )
        async with self._engine.begin() as conn:
            if values:
                await conn.execute(update(CHANNELS).where(*THIS_CHANNEL).values(values), channel_params(ref))
            channel = await self._get(conn, ref)
        if channel is None:
            raise LookupError(f"unknown channel {ref.key}")
        return channel

    async def _set(self, ref: ChannelRef, **values: object) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(update(CHANNELS).where(*THIS_CHANNEL).values(values), channel_params(ref))

    async def pause(self, ref: ChannelRef, reason: str) -> None:
        try:
            await self._set(ref, paused_reason=reason)
        finally:
            self._pauses_changed()

    async def resume(self, ref: ChannelRef) -> None:
        try:
            await self._set(ref, paused_reason=None)
        finally:
            self._pauses_changed()

    async def set_last_digest(self, ref: ChannelRef, at: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(_SET_LAST_DIGEST, {**channel_params(ref), "c_at": at})

    async def all(self) -> list[Channel]:
        query = select(CHANNELS).order_by(CHANNELS.c.id)
        async with self._engine.connect() as conn:
            return [_to_channel(row) for row in await conn.execute(query)]

    async def delete_workspace(self, platform: Platform, workspace_id: str) -> int:
        """On uninstall: pause every channel of the workspace. Nothing is deleted; a reinstall resumes."""
        stmt = (
            update(CHANNELS)
            .where(CHANNELS.c.platform == platform.value, CHANNELS.c.workspace_id == workspace_id)
            .values(paused_reason=UNINSTALLED)
        )
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(stmt)
        finally:
            self._pauses_changed()
        return int(result.rowcount)

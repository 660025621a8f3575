"""Channel libraries, always scoped to one channel: another channel's papers are never read or changed.

Saving is an `INSERT ... ON CONFLICT DO NOTHING` on (channel, paper): a paper saved twice, or shared as
a link and then saved, stays one entry with whoever brought it in first.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.types import ChannelRef, LibraryEntry, LibraryVia, Reading, ReadingRole
from storage._sql import CHANNEL_PK, channel_params, insert_for, ref_of, require_channel_pk
from storage.models import ChannelRow, LibraryRow, ReadingRow

_LIBRARY = cast(Table, LibraryRow.__table__)
_READING = cast(Table, ReadingRow.__table__)
_CHANNELS = cast(Table, ChannelRow.__table__)


def _reading(row: Row[Any], ref: ChannelRef) -> Reading:
    return Reading(ref, row.paper_id, row.who, ReadingRole(row.role), row.at, row.day)


class LibraryRepository:
    def __init__(self, engine: AsyncEngine, dialect: str) -> None:
        self._engine = engine
        self._dialect = dialect

    async def add(self, ref: ChannelRef, paper_id: str, *, by: str, at: datetime, via: LibraryVia) -> bool:
        """Put `paper_id` in the channel's library; False when it was there already (nothing changes).

        The channel must exist (`ChannelRepository.ensure`), else LookupError.
        """
        async with self._engine.begin() as conn:
            pk = await require_channel_pk(conn, ref)
            stmt = (
                insert_for(self._dialect, _LIBRARY)
                .values(channel_pk=pk, paper_id=paper_id, added_by=by, added_at=at, via=via.value)
                .on_conflict_do_nothing(index_elements=["channel_pk", "paper_id"])
                .returning(_LIBRARY.c.paper_id)
            )
            return (await conn.execute(stmt)).scalar_one_or_none() is not None

    async def remove(self, ref: ChannelRef, paper_id: str) -> bool:
        """Take `paper_id` out of this channel's library; False when it was not in it."""
        stmt = delete(_LIBRARY).where(
            _LIBRARY.c.channel_pk == CHANNEL_PK.scalar_subquery(), _LIBRARY.c.paper_id == paper_id
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(stmt, channel_params(ref))
        return bool(result.rowcount)

    async def entries(self, ref: ChannelRef) -> list[LibraryEntry]:
        """The channel's library, newest first (ties by paper id, so the order is stable)."""
        stmt = (
            select(_LIBRARY)
            .where(_LIBRARY.c.channel_pk == CHANNEL_PK.scalar_subquery())
            .order_by(_LIBRARY.c.added_at.desc(), _LIBRARY.c.paper_id.desc())
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt, channel_params(ref))).all()
        return [LibraryEntry(ref, r.paper_id, r.added_by, r.added_at, LibraryVia(r.via)) for r in rows]

    # -- reading and journal club ----------------------------------------------------------------

    async def read(self, ref: ChannelRef, paper_id: str, *, who: str, at: datetime) -> bool:
        """`who` reads `paper_id` in this channel; False when they said so already (nothing changes)."""
        async with self._engine.begin() as conn:
            pk = await require_channel_pk(conn, ref)
            stmt = (
                insert_for(self._dialect, _READING)
                .values(channel_pk=pk, paper_id=paper_id, who=who, role=ReadingRole.READS.value, day=None, at=at)
                .on_conflict_do_nothing(index_elements=["channel_pk", "paper_id", "who", "role"])
                .returning(_READING.c.paper_id)
            )
            return (await conn.execute(stmt)).scalar_one_or_none() is not None

    async def present(self, ref: ChannelRef, paper_id: str, *, who: str, day: date, at: datetime) -> Reading | None:
        """`who` presents `paper_id` on `day`: the channel's one talk on that paper, replacing an earlier plan.

        Returns the plan it replaced (another presenter or day), or None.
        """
        async with self._engine.begin() as conn:
            # The channel's row locked (PostgreSQL; SQLite serialises writers): two people claiming the same
            # talk at once leave one plan, the later one, never two.
            pk = (await conn.execute(CHANNEL_PK.with_for_update(), channel_params(ref))).scalar_one_or_none()
            if pk is None:
                raise LookupError(f"unknown channel {ref.key}: call ChannelRepository.ensure() first")
            talk = (
                _READING.c.channel_pk == pk,
                _READING.c.paper_id == paper_id,
                _READING.c.role == ReadingRole.PRESENTS.value,
            )
            before = (await conn.execute(select(_READING).where(*talk))).first()
            await conn.execute(delete(_READING).where(*talk))
            values = {"channel_pk": pk, "paper_id": paper_id, "who": who, "day": day, "at": at}
            await conn.execute(_READING.insert().values(role=ReadingRole.PRESENTS.value, **values))
        return _reading(before, ref) if before is not None else None

    async def readings(self, ref: ChannelRef) -> list[Reading]:
        """The channel's readers and talks: talks first by day, then readers newest first."""
        stmt = select(_READING).where(_READING.c.channel_pk == CHANNEL_PK.scalar_subquery())
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt, channel_params(ref))).all()
        found = [_reading(r, ref) for r in rows]
        talks = sorted(
            (r for r in found if r.role is ReadingRole.PRESENTS), key=lambda r: (r.day or date.max, r.paper_id)
        )
        readers = sorted(
            (r for r in found if r.role is ReadingRole.READS), key=lambda r: (r.at, r.paper_id), reverse=True
        )
        return talks + readers

    async def talks_between(self, start: date, end: date) -> list[Reading]:
        """Every channel's talks on a day in [start, end] (what the reminder job looks at)."""
        stmt = (
            select(_READING, _CHANNELS.c.platform, _CHANNELS.c.workspace_id, _CHANNELS.c.channel_id)
            .join(_CHANNELS, _CHANNELS.c.id == _READING.c.channel_pk)
            .where(_READING.c.role == ReadingRole.PRESENTS.value, _READING.c.day.between(start, end))
            # One talk of each channel in turn, not one channel's talks in a row (each channel's posts are paced).
            .order_by(_READING.c.day, _READING.c.paper_id, _READING.c.channel_pk)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_reading(r, ref_of(r)) for r in rows]

"""Channel libraries, always scoped to one channel: another channel's papers are never read or changed.

Saving is an `INSERT ... ON CONFLICT DO NOTHING` on (channel, paper): a paper saved twice, or shared as
a link and then saved, stays one entry with whoever brought it in first.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.types import ChannelRef, LibraryEntry, LibraryVia
from storage._sql import CHANNEL_PK, channel_params, insert_for, require_channel_pk
from storage.models import LibraryRow

_LIBRARY = cast(Table, LibraryRow.__table__)


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

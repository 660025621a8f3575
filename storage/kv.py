"""A small key-value table for bookkeeping (e.g. ingest cursors)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage._sql import insert_for
from storage.models import KeyValueRow


class KeyValueRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str) -> None:
        self._sessions = sessions
        self._dialect = dialect

    async def get(self, key: str) -> str | None:
        async with self._sessions() as session:
            return (await session.execute(select(KeyValueRow.value).where(KeyValueRow.key == key))).scalar_one_or_none()

    async def set(self, key: str, value: str) -> None:
        stmt = insert_for(self._dialect, KeyValueRow).values(key=key, value=value)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value})
        async with self._sessions.begin() as session:
            await session.execute(stmt)

"""Votes: each channel's likes and dislikes of papers, always scoped to one channel.

A vote is keyed by (channel row, paper, user), so one user has one vote per paper per channel and
another channel's (or workspace's) votes are simply other rows: every read here is bound to one
channel's key. Casting the same vote again takes it back; casting the other one replaces it. Both
happen in one transaction, so concurrent presses of one user leave one row or none.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.types import ChannelRef, Vote
from storage._sql import CHANNEL_PK, channel_params, insert_for, require_channel_pk
from storage.models import VoteRow

VOTES = cast(Table, VoteRow.__table__)
_OF_CHANNEL = VOTES.c.channel_pk == CHANNEL_PK.scalar_subquery()
# A channel's votes, oldest first (the digest of a fan-out reads them for every channel that has votes).
_LIST = (
    select(VOTES.c.paper_id, VOTES.c.user_id, VOTES.c.value, VOTES.c.voted_at)
    .where(_OF_CHANNEL)
    .order_by(VOTES.c.voted_at, VOTES.c.paper_id, VOTES.c.user_id)
)
_COUNT = select(func.count()).select_from(VOTES).where(_OF_CHANNEL)
_UP = func.sum(case((VOTES.c.value > 0, 1), else_=0))
_TALLY = select(VOTES.c.paper_id, _UP, func.count() - _UP).where(_OF_CHANNEL).group_by(VOTES.c.paper_id)


class VoteRepository:
    def __init__(self, engine: AsyncEngine, dialect: str) -> None:
        self._engine = engine
        self._dialect = dialect

    async def cast(self, ref: ChannelRef, paper_id: str, user_id: str, value: int, *, now: datetime) -> int:
        """Record `user_id`'s vote (+1 or -1) on `paper_id` here; the user's vote afterwards (0: taken back).

        The channel must exist (`ChannelRepository.ensure`), else LookupError.
        """
        if value not in (1, -1):
            raise ValueError("a vote is +1 or -1")
        async with self._engine.begin() as conn:
            pk = await require_channel_pk(conn, ref)
            same = delete(VOTES).where(
                VOTES.c.channel_pk == pk,
                VOTES.c.paper_id == paper_id,
                VOTES.c.user_id == user_id,
                VOTES.c.value == value,
            )
            if (await conn.execute(same)).rowcount:
                return 0
            stmt = insert_for(self._dialect, VOTES).values(
                channel_pk=pk, paper_id=paper_id, user_id=user_id, value=value, voted_at=now
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["channel_pk", "paper_id", "user_id"],
                set_={"value": stmt.excluded.value, "voted_at": stmt.excluded.voted_at},
            )
            await conn.execute(stmt)
        return value

    async def list(self, ref: ChannelRef) -> list[Vote]:
        """Every vote cast in this channel, oldest first."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(_LIST, channel_params(ref))
            return [Vote(r.paper_id, r.user_id, r.value, r.voted_at) for r in rows]

    async def count(self, ref: ChannelRef) -> int:
        async with self._engine.connect() as conn:
            found: int = (await conn.execute(_COUNT, channel_params(ref))).scalar_one()
            return found

    async def tally(self, ref: ChannelRef) -> dict[str, tuple[int, int]]:
        """(likes, dislikes) per paper voted on in this channel, counted by the database."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(_TALLY, channel_params(ref))
            return {paper_id: (int(up), int(down)) for paper_id, up, down in rows}

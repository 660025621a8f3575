"""This deployment's channels: the store, plus the defaults a channel gets the first time it is used."""

from __future__ import annotations

from datetime import time

from bot.clock import Clock
from bot.ports import ChannelStore
from bot.types import Channel, ChannelRef, ChannelSettings


class Channels:
    def __init__(self, store: ChannelStore, *, digest_time: time, timezone: str, clock: Clock) -> None:
        self.store = store
        self._digest_time = digest_time
        self._timezone = timezone
        self._clock = clock

    async def ensure(self, ref: ChannelRef) -> Channel:
        """This channel's row, created with the configured defaults on first use.

        A person's DMs (`ChannelRef.dm`) are created with `DM_SETTINGS`, whichever command made them
        first (a Home-tab press, a follow), so nobody is ever sent trending papers they did not follow.
        """
        return await self.ensure_at(ref, digest_time=self._digest_time, timezone=self._timezone)

    async def ensure_at(self, ref: ChannelRef, *, digest_time: time, timezone: str) -> Channel:
        """`ensure`, with the time and timezone a new row gets."""
        if ref.dm_user is None:
            return await self.store.ensure(ref, digest_time=digest_time, timezone=timezone, now=self._clock.now())
        found = await self.store.get(ref)
        if found is not None:
            return found
        await self.store.ensure(ref, digest_time=digest_time, timezone=timezone, now=self._clock.now())
        return await self.store.update(ref, settings=DM_SETTINGS)


DM_SETTINGS = ChannelSettings(max_papers=10, trending=False, rising=False, followups=False, empty=False, learning=False)
"""A person's DMs show only what they follow, at most ten papers, and nothing on a day with nothing new."""

"""This deployment's channels: the store, plus the defaults a channel gets the first time it is used."""

from __future__ import annotations

from datetime import time

from bot.clock import Clock
from bot.ports import ChannelStore
from bot.types import Channel, ChannelRef


class Channels:
    def __init__(self, store: ChannelStore, *, digest_time: time, timezone: str, clock: Clock) -> None:
        self.store = store
        self._digest_time = digest_time
        self._timezone = timezone
        self._clock = clock

    async def ensure(self, ref: ChannelRef) -> Channel:
        """This channel's row, created with the configured defaults on first use."""
        return await self.store.ensure(
            ref, digest_time=self._digest_time, timezone=self._timezone, now=self._clock.now()
        )

"""The database going away and coming back, said once each, with what to do when it is back.

Anything that finds the store unreachable reports it here (`unavailable`); the first report of an
outage is logged as a warning, later ones only at debug level, so a minute without PostgreSQL is one
line, not one a second. The first success afterwards (`available`, from the lease renewal every few
seconds) logs how long it lasted and runs the catch-up callbacks: digests due during the outage,
deliveries left unfinished, the ingest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.clock import Clock

logger = logging.getLogger(__name__)

CatchUp = Callable[[], Awaitable[object]]

UNAVAILABLE_REPLY = "Paperboy can't reach its database right now; try again in a minute."


class StoreHealth:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._down_since: datetime | None = None
        self._failures = 0
        self._on_back: list[tuple[str, CatchUp]] = []
        self._catching_up: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def down_since(self) -> datetime | None:
        return self._down_since

    @property
    def up(self) -> bool:
        return self._down_since is None

    def when_back(self, what: str, catch_up: CatchUp) -> None:
        """Run `catch_up` each time the database comes back after an outage."""
        self._on_back.append((what, catch_up))

    def unavailable(self, exc: BaseException, doing: str) -> None:
        self._failures += 1
        if self._down_since is None:
            self._down_since = self._clock.now()
            logger.warning("database unreachable while %s: %s; retrying until it is back", doing, exc)
        else:
            logger.debug("database still unreachable while %s: %s", doing, exc)

    async def available(self) -> None:
        if self._down_since is None:
            return
        lasted = (self._clock.now() - self._down_since).total_seconds()
        logger.warning(
            "database reachable again after %.0f s (%d failed operations); catching up", lasted, self._failures
        )
        self._down_since, self._failures = None, 0
        if self._closed:
            return
        if self._catching_up is None or self._catching_up.done():
            # In a task of its own: a long catch-up (a whole fan-out) must not hold up whoever noticed
            # the database was back (the lease renewal).
            self._catching_up = asyncio.get_running_loop().create_task(self._catch_up(), name="paperboy-catch-up")

    async def _catch_up(self) -> None:
        for what, catch_up in self._on_back:
            try:
                await catch_up()
            except Exception:
                logger.exception("catching up %s after the database outage failed", what)

    async def settle(self) -> None:
        """Wait for a running catch-up (tests)."""
        if self._catching_up is not None:
            await asyncio.gather(self._catching_up, return_exceptions=True)

    async def close(self) -> None:
        """No more catch-ups (the application is stopping); a running one is cancelled."""
        self._closed = True
        task, self._catching_up = self._catching_up, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

"""End to end in process: the real engine, storage on SQLite, the bundled sample, the memory adapter."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from adapters.memory import MemoryAdapter
from bot.clock import FixedClock
from bot.config import Settings
from bot.delivery import RetryPolicy
from bot.ingest import seed_sample_if_empty
from bot.sources.sample import SAMPLE_LAST_DAY
from bot.types import ChannelRef, CommandInvocation, Message, Permission, Platform, UserRef
from paperboy.app import Paperboy
from storage import Database

HERE = ChannelRef(Platform.CONSOLE, "W1", "C1")
OTHER = ChannelRef(Platform.CONSOLE, "W1", "C2")
# The morning after the sample's last Daily Papers day: "today" shows that day.
MORNING = datetime.combine(SAMPLE_LAST_DAY + timedelta(days=1), time(8, 0), UTC)


@dataclass
class Harness:
    app: Paperboy
    clock: FixedClock
    chat: MemoryAdapter

    async def say(
        self,
        text: str,
        channel: ChannelRef = HERE,
        *,
        manager: bool = True,
        user: str = "U1",
        dm: bool = False,
    ) -> list[Message]:
        invocation = CommandInvocation(
            channel=channel,
            user=UserRef(user),
            text=text,
            permission=Permission(manager, "channel managers"),
            received_at=self.clock.now(),
            is_direct_message=dm,
        )
        return await self.app.engine.handle(invocation)

    async def one(self, text: str, channel: ChannelRef = HERE, **kwargs: bool | str) -> Message:
        replies = await self.say(text, channel, **kwargs)  # type: ignore[arg-type]
        assert len(replies) == 1, replies
        return replies[0]


async def no_sleep(_: float) -> None:
    return None


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database holding the bundled sample, built once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "seeded.db"

    async def make() -> None:
        db = await Database.connect(f"sqlite+aiosqlite:///{path}")
        await db.upgrade()
        await seed_sample_if_empty(db, FixedClock(MORNING))
        await db.close()

    asyncio.run(make())
    return path


@pytest.fixture
async def harness(tmp_path: Path, seeded_db: Path) -> AsyncIterator[Harness]:
    async with open_harness(tmp_path, seeded_db, Settings(data_dir=tmp_path, offline=True)) as h:
        yield h


@contextlib.asynccontextmanager
async def open_harness(tmp_path: Path, seeded_db: Path, settings: Settings) -> AsyncIterator[Harness]:
    """The application on a copy of the seeded database, the memory channel and a clock at MORNING."""
    clock = FixedClock(MORNING)
    shutil.copy(seeded_db, tmp_path / "e2e.db")
    db = await Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}")
    await db.upgrade()
    chat = MemoryAdapter(Platform.CONSOLE)
    # Retries wait on an injected sleep, so tests never sleep for real.
    app = Paperboy(settings, clock=clock, database=db, chat=[chat], retry=RetryPolicy(attempts=3), sleep=no_sleep)
    await app.start()
    try:
        yield Harness(app, clock, chat)
    finally:
        await app.stop()

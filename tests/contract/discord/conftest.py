"""Fixtures: a fake Discord on 127.0.0.1, a fake core that records invocations, and the adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.discord.adapter import DiscordAdapter
from bot.clock import FixedClock
from tests.fakes.discord import NOW, FakeCore, FakeDiscord, MemoryKV, settings_for


@pytest.fixture(autouse=True)
def _quick_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("adapters.discord.adapter.GUILD_READY_TIMEOUT", 0.05)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def core() -> FakeCore:
    return FakeCore()


@pytest.fixture
async def adapter(fake: FakeDiscord, core: FakeCore) -> AsyncIterator[DiscordAdapter]:
    a = DiscordAdapter(settings_for(fake), clock=FixedClock(NOW), kv=MemoryKV())
    await a.start(core, ready_timeout=10)
    yield a
    await a.stop()

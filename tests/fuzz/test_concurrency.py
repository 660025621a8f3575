"""Identical commands at once, through the real adapters and the real engine: one topic, the rest told.

Ten concurrent `/papers subscribe samedup` over signed HTTP stored eight topics, and fifty on Discord 41
("41 of 25"), before uniqueness moved into the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.types import ChannelRef, Platform
from tests.fakes import discord as fd
from tests.fakes.common import wait_for
from tests.fakes.slack import FORM, form, slash_body
from tests.fuzz.stack import Stack

pytestmark = pytest.mark.usefixtures("no_tracebacks")


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    started = await Stack.start(tmp_path, slack=True, discord=True)
    try:
        yield started
    finally:
        await started.stop()


async def test_ten_identical_slack_subscribes_store_one_topic(stack: Stack) -> None:
    fake = stack.slack_fake
    assert fake is not None
    bodies = [form(slash_body(fake, "subscribe samedup")) for _ in range(10)]
    statuses = await asyncio.gather(*(stack.post_slack(b.encode(), FORM) for b in bodies))
    assert statuses == [200] * 10
    await stack.slack_settled()
    await wait_for(lambda: len(fake.responses) == 10, what="ten replies")
    texts = [str(payload) for _, payload in fake.responses]
    assert sum("Subscribed to `samedup`" in t for t in texts) == 1
    assert sum("already follows `samedup`" in t for t in texts) == 9
    assert await stack.app.db.subscriptions.count(ChannelRef(Platform.SLACK, "T1", "C1")) == 1


async def test_fifty_identical_discord_subscribes_store_one_topic(stack: Stack) -> None:
    fake = stack.discord_fake
    assert fake is not None
    payloads = [fd.slash("subscribe", {"query": "samedup"}, permissions=16) for _ in range(50)]
    for payload in payloads:  # discord.py takes each in its own task: they run at once
        await fake.push_interaction(payload)
    tokens = {f"followup:{p['token']}" for p in payloads}
    await wait_for(lambda: tokens <= set(fake.events), 20, what="fifty replies")
    said = [p.content + str(p.embeds) for p in fake.posted if p.channel_id in tokens]
    assert sum("already follows" in s and "samedup" in s for s in said) == 49, said[:3]
    ref = ChannelRef(Platform.DISCORD, fd.GUILD_ID, "333")
    assert await stack.app.db.subscriptions.count(ref) == 1


async def test_concurrent_different_subscribes_stop_at_the_limit(stack: Stack) -> None:
    fake = stack.discord_fake
    assert fake is not None
    payloads = [fd.slash("subscribe", {"query": f"topic{i}"}, permissions=16) for i in range(40)]
    for payload in payloads:
        await fake.push_interaction(payload)
    tokens = {f"followup:{p['token']}" for p in payloads}
    await wait_for(lambda: tokens <= set(fake.events), 20, what="forty replies")
    said = [p.content + str(p.embeds) for p in fake.posted if p.channel_id in tokens]
    assert sum("25 topics, the limit" in s for s in said) == 15
    ref = ChannelRef(Platform.DISCORD, fd.GUILD_ID, "333")
    assert await stack.app.db.subscriptions.count(ref) == 25

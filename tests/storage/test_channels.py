"""Channels and subscriptions: defaults, updates, pause on uninstall, scoping by channel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.types import ChannelRef, ChannelSettings, Platform
from storage import Database
from tests.storage.conftest import DISCORD, GENERAL, NOW, RANDOM


async def test_ensure_creates_once_and_returns_the_existing_channel(db: Database) -> None:
    assert await db.channels.get(GENERAL) is None
    created = await db.channels.ensure(GENERAL, digest_time=time(9, 30), timezone="Europe/Paris", now=NOW)
    assert created.ref == GENERAL
    assert created.digest_time == time(9, 30)
    assert created.timezone == "Europe/Paris"
    assert created.digest_enabled and created.settings == ChannelSettings()
    assert created.created_at == NOW
    again = await db.channels.ensure(GENERAL, digest_time=time(7, 0), timezone="UTC", now=NOW + timedelta(days=1))
    assert again == created
    assert await db.channels.get(GENERAL) == created


async def test_concurrent_ensure_creates_one_channel(db: Database) -> None:
    results = await asyncio.gather(
        *(db.channels.ensure(RANDOM, digest_time=time(9, 0), timezone="UTC", now=NOW) for _ in range(8))
    )
    assert len({r.ref for r in results}) == 1
    assert len(await db.channels.all()) == 1


async def test_update_changes_only_what_is_given(db: Database, general: ChannelRef) -> None:
    updated = await db.channels.update(general, digest_time=time(18, 45), timezone="America/New_York")
    assert (updated.digest_time, updated.timezone, updated.digest_enabled) == (time(18, 45), "America/New_York", True)
    settings = ChannelSettings(max_papers=5, min_upvotes=10, trending=False, weekends=False, empty=True)
    updated = await db.channels.update(general, digest_enabled=False, settings=settings)
    assert updated.settings == settings and not updated.digest_enabled
    assert updated.digest_time == time(18, 45)
    assert await db.channels.get(general) == updated


async def test_update_of_unknown_channel_raises(db: Database) -> None:
    with pytest.raises(LookupError):
        await db.channels.update(RANDOM, digest_enabled=False)


async def test_pause_resume_and_last_digest(db: Database, general: ChannelRef) -> None:
    await db.channels.pause(general, "channel_not_found")
    channel = await db.channels.get(general)
    assert channel is not None and channel.paused_reason == "channel_not_found"
    await db.channels.resume(general)
    channel = await db.channels.get(general)
    assert channel is not None and channel.paused_reason is None
    at = datetime(2025, 11, 10, 8, 0, tzinfo=UTC)
    await db.channels.set_last_digest(general, at)
    channel = await db.channels.get(general)
    assert channel is not None and channel.last_digest_at == at


async def test_uninstall_pauses_the_workspace_and_keeps_everything(db: Database, general: ChannelRef) -> None:
    await db.channels.ensure(RANDOM, digest_time=time(9, 0), timezone="UTC", now=NOW)
    await db.channels.ensure(DISCORD, digest_time=time(9, 0), timezone="UTC", now=NOW)
    sub = await db.subscriptions.add(general, "diffusion", created_by="U1", now=NOW, limit=25)
    assert await db.channels.delete_workspace(Platform.SLACK, "T1") == 2
    by_ref = {c.ref: c for c in await db.channels.all()}
    assert by_ref[GENERAL].paused_reason == "app uninstalled"
    assert by_ref[RANDOM].paused_reason == "app uninstalled"
    assert by_ref[DISCORD].paused_reason is None
    assert await db.subscriptions.list(general) == [sub]


async def test_subscriptions_are_scoped_to_their_channel(db: Database, general: ChannelRef) -> None:
    await db.channels.ensure(RANDOM, digest_time=time(9, 0), timezone="UTC", now=NOW)
    mine = await db.subscriptions.add(general, '"mixture of experts"', created_by="U1", now=NOW, limit=25)
    theirs = await db.subscriptions.add(RANDOM, "diffusion", created_by="U2", now=NOW, limit=25)
    assert mine.id != theirs.id
    assert await db.subscriptions.get(general, mine.id) == mine
    assert await db.subscriptions.get(general, theirs.id) is None
    assert await db.subscriptions.remove(general, theirs.id) is False
    assert await db.subscriptions.list(RANDOM) == [theirs]
    assert await db.subscriptions.remove(general, mine.id) is True
    assert await db.subscriptions.list(general) == []
    assert await db.subscriptions.remove(general, mine.id) is False


async def test_subscription_list_count_find_and_grouping(db: Database, general: ChannelRef) -> None:
    await db.channels.ensure(DISCORD, digest_time=time(9, 0), timezone="UTC", now=NOW)
    first = await db.subscriptions.add(general, "Mixture  of Experts", created_by="U1", now=NOW, limit=25)
    second = await db.subscriptions.add(general, 'author:"Yann LeCun"', created_by="U1", now=NOW, limit=25)
    other = await db.subscriptions.add(DISCORD, "diffusion", created_by="U9", now=NOW, limit=25)
    assert first.created_at == NOW and first.created_at.tzinfo is not None
    assert await db.subscriptions.list(general) == [first, second]
    assert await db.subscriptions.count(general) == 2
    assert await db.subscriptions.find(general, "  mixture of   EXPERTS ") == first
    assert await db.subscriptions.find(general, "diffusion") is None
    assert await db.subscriptions.find(DISCORD, "Diffusion") == other
    assert await db.subscriptions.all_by_channel() == {GENERAL: [first, second], DISCORD: [other]}


async def test_subscribing_an_unknown_channel_raises(db: Database) -> None:
    with pytest.raises(LookupError):
        await db.subscriptions.add(RANDOM, "diffusion", created_by="U1", now=NOW, limit=25)


async def test_paused_inboxes_list_paused_direct_messages_and_see_this_process_at_once(
    db: Database, replica: Database, general: ChannelRef
) -> None:
    ada, alan = ChannelRef.dm(Platform.SLACK, "T1", "U-ada"), ChannelRef.dm(Platform.DISCORD, "G1", "U-ada")
    for ref in (ada, alan):
        await db.channels.ensure(ref, digest_time=time(9, 0), timezone="UTC", now=NOW)
    assert await db.channels.paused_inboxes() == {}
    await db.channels.pause(general, "channel_not_found")  # a channel, not a person's inbox
    await db.channels.pause(ada, "Slack says the user is deactivated (user_disabled)")
    assert await db.channels.paused_inboxes() == {ada: "Slack says the user is deactivated (user_disabled)"}
    await db.channels.resume(ada)
    assert await db.channels.paused_inboxes() == {}, "a resume here is seen at once, whatever the snapshot"

    clock = [0.0]
    other = type(replica.channels)(replica.engine, replica.dialect, paused_refresh=30.0, monotonic=lambda: clock[0])
    assert await other.paused_inboxes() == {}
    await db.channels.pause(alan, "Discord says the user's DMs are closed (50007)")
    assert await other.paused_inboxes() == {}, "another replica's pause waits for the refresh"
    clock[0] = 30.0
    assert await other.paused_inboxes() == {alan: "Discord says the user's DMs are closed (50007)"}

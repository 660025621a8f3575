"""Votes: one per user per paper per channel, taken back by the same vote, never seen from another channel."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import time, timedelta

import pytest

from bot.types import ChannelRef, ChannelSettings, Platform
from storage import Database
from tests.storage.conftest import DISCORD, GENERAL, NOW, RANDOM

OTHER_WORKSPACE = ChannelRef(Platform.SLACK, "T2", "C-general")


async def _channels(db: Database, *refs: ChannelRef) -> None:
    for ref in refs:
        await db.channels.ensure(ref, digest_time=time(9, 0), timezone="UTC", now=NOW)


async def test_a_vote_is_kept_replaced_and_taken_back(db: Database) -> None:
    await _channels(db, GENERAL)
    assert await db.votes.cast(GENERAL, "2402.17764", "U1", 1, now=NOW) == 1
    assert [(v.paper_id, v.user_id, v.value) for v in await db.votes.list(GENERAL)] == [("2402.17764", "U1", 1)]
    # The other vote replaces it: still one row for this user and paper.
    assert await db.votes.cast(GENERAL, "2402.17764", "U1", -1, now=NOW + timedelta(minutes=1)) == -1
    assert [(v.value, v.voted_at) for v in await db.votes.list(GENERAL)] == [(-1, NOW + timedelta(minutes=1))]
    # The same vote again takes it back.
    assert await db.votes.cast(GENERAL, "2402.17764", "U1", -1, now=NOW) == 0
    assert await db.votes.list(GENERAL) == []
    assert await db.votes.count(GENERAL) == 0


async def test_votes_never_leave_their_channel(db: Database) -> None:
    await _channels(db, GENERAL, RANDOM, DISCORD, OTHER_WORKSPACE)
    await db.votes.cast(GENERAL, "2402.17764", "U1", 1, now=NOW)
    await db.votes.cast(GENERAL, "2402.17765", "U2", -1, now=NOW)
    await db.votes.cast(RANDOM, "2402.17764", "U1", -1, now=NOW)
    await db.votes.cast(OTHER_WORKSPACE, "2402.17764", "U1", -1, now=NOW)
    assert {(v.paper_id, v.value) for v in await db.votes.list(GENERAL)} == {("2402.17764", 1), ("2402.17765", -1)}
    assert [(v.paper_id, v.value) for v in await db.votes.list(RANDOM)] == [("2402.17764", -1)]
    assert [(v.paper_id, v.value) for v in await db.votes.list(OTHER_WORKSPACE)] == [("2402.17764", -1)]
    assert await db.votes.list(DISCORD) == []
    assert (await db.votes.count(GENERAL), await db.votes.count(DISCORD)) == (2, 0)


async def test_many_users_vote_on_one_paper(db: Database) -> None:
    await _channels(db, GENERAL)
    await asyncio.gather(*(db.votes.cast(GENERAL, "2402.17764", f"U{i}", 1, now=NOW) for i in range(8)))
    assert await db.votes.count(GENERAL) == 8


async def test_a_vote_needs_a_known_channel_and_a_sign(db: Database) -> None:
    with pytest.raises(LookupError):
        await db.votes.cast(GENERAL, "2402.17764", "U1", 1, now=NOW)
    await _channels(db, GENERAL)
    with pytest.raises(ValueError, match="vote"):
        await db.votes.cast(GENERAL, "2402.17764", "U1", 2, now=NOW)
    assert await db.votes.list(GENERAL) == []


async def test_learning_settings_round_trip(db: Database) -> None:
    await _channels(db, GENERAL)
    created = await db.channels.get(GENERAL)
    assert created is not None and created.settings.learning is None
    wanted = replace(ChannelSettings(), learning=False, learn_trending=True, votes_shown=True)
    updated = await db.channels.update(GENERAL, settings=wanted)
    assert updated.settings == wanted
    assert (await db.channels.get(GENERAL)) == updated


async def test_the_tally_counts_likes_and_dislikes_per_paper(db: Database) -> None:
    await _channels(db, GENERAL, RANDOM)
    for user, value in (("U1", 1), ("U2", 1), ("U3", -1)):
        await db.votes.cast(GENERAL, "2402.17764", user, value, now=NOW)
    await db.votes.cast(GENERAL, "2402.17765", "U1", -1, now=NOW)
    await db.votes.cast(RANDOM, "2402.17764", "U9", -1, now=NOW)
    assert await db.votes.tally(GENERAL) == {"2402.17764": (2, 1), "2402.17765": (0, 1)}
    assert await db.votes.tally(RANDOM) == {"2402.17764": (0, 1)}


async def test_a_topic_query_changes_in_place_and_only_in_its_channel(db: Database) -> None:
    await _channels(db, GENERAL, RANDOM)
    sub = await db.subscriptions.add(GENERAL, "agent", created_by="U1", now=NOW, limit=25)
    other = await db.subscriptions.add(GENERAL, 'agent -"web agent"', created_by="U1", now=NOW, limit=25)
    assert sub is not None and other is not None
    assert await db.subscriptions.set_query(RANDOM, sub.id, "agent -html") is None, "not that channel's topic"
    assert await db.subscriptions.set_query(GENERAL, sub.id, 'AGENT -"web agent"') is None, "a duplicate"
    changed = await db.subscriptions.set_query(GENERAL, sub.id, "agent -html")
    assert changed is not None and (changed.id, changed.query, changed.created_at) == (sub.id, "agent -html", NOW)

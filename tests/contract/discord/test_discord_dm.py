"""A person's direct messages (`ChannelRef.dm`) through the real discord.py against the fake Discord."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.discord import render as discord_render
from adapters.discord.adapter import DiscordAdapter
from bot.errors import PermanentDeliveryError
from bot.types import ArtifactKind, ChannelRef, Digest, DigestEntry, DigestReason, FollowUp, Platform, TextReply
from tests.fakes.discord import GUILD_ID, NOW, FakeDiscord, paper

USER = "555555555555555555"
ADA = ChannelRef.dm(Platform.DISCORD, GUILD_ID, USER)
CREATE_DM = ("POST", "/api/v10/users/@me/channels")


def _digest(n: int, delivery_id: str) -> Digest:
    entries = tuple(DigestEntry(paper(i), DigestReason.TOPIC, ("mixture of experts",)) for i in range(1, n + 1))
    return Digest(ADA, NOW.date(), entries, delivery_id=delivery_id)


async def test_a_digest_to_a_person_creates_their_dm_once_and_posts_every_part_there(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    digest = _digest(25, "7a1c9a2e7d414b8a9f001234567890ab")
    sent = await adapter.send(ADA, digest, delivery_id=digest.delivery_id)
    dm = fake.dms[USER]
    assert fake.channels[dm]["type"] == 1 and fake.channels[dm]["recipients"][0]["id"] == USER
    assert len(fake.posted) > 1 and {p.channel_id for p in fake.posted} == {dm}, "no threads in a DM"
    assert not fake.threads
    assert [sent.message_id, *sent.extra_ids] == [p.id for p in fake.posted]
    nonces = [p.body["nonce"] for p in fake.posted]
    assert len(set(nonces)) == len(nonces) and all(p.body["enforce_nonce"] for p in fake.posted)
    for position, post in enumerate(fake.posted):
        assert discord_render.marker_positions(post.body, digest.delivery_id) == {position}
    assert sum(len(p.embeds) for p in fake.posted) == 25
    await adapter.send(ADA, TextReply("tomorrow's"), delivery_id="second-delivery")
    assert fake.requests.count(CREATE_DM) == 1, "the DM channel is remembered"
    assert not any(path == f"/api/v10/channels/{dm}" for _, path in fake.requests), "no channel-kind lookup"


async def test_find_parts_scans_the_persons_dm(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    await adapter.send(ADA, TextReply("unrelated"))
    digest = _digest(25, "8b1c9a2e7d414b8a9f001234567890ab")
    sent = await adapter.send(ADA, digest, delivery_id=digest.delivery_id)
    since = NOW - timedelta(days=1)
    parts = [sent.message_id, *sent.extra_ids]
    assert await adapter.find_parts(ADA, digest.delivery_id, since, {}) == dict(enumerate(parts))
    assert await adapter.find_parts(ADA, "never-posted-id", since, {}) == {}


async def test_a_follow_up_in_a_dm_replies_to_its_paper_and_is_found(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    top = (await adapter.send(ADA, TextReply("the paper"), delivery_id="dm-digest")).message_id
    news = FollowUp(ADA, paper(1), ArtifactKind.CODE, top, "github.com/org/repo")
    sent = await adapter.send(ADA, news, delivery_id="dm-news")
    post = fake.posted[-1]
    assert post.channel_id == fake.dms[USER] and post.body["message_reference"]["message_id"] == top
    assert not fake.threads
    assert await adapter.find_parts(ADA, "dm-news", NOW - timedelta(days=1), {}, under=top) == {0: sent.message_id}


async def test_closed_dms_are_permanent_and_say_what_to_do(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    fake.knobs.closed_dms.add(USER)
    with pytest.raises(PermanentDeliveryError) as err:
        await adapter.send(ADA, TextReply("hello"), delivery_id="closed-dm")
    reason = err.value.reason
    assert reason.startswith("Discord would not deliver a direct message to you")
    assert "Allow direct messages from server members" in reason and "/papers follow on" in reason
    assert "SECRET" not in reason
    assert not fake.posted
    # Once they open their DMs, the next delivery goes through.
    fake.knobs.closed_dms.clear()
    await adapter.send(ADA, TextReply("hello"), delivery_id="closed-dm")
    assert [p.channel_id for p in fake.posted] == [fake.dms[USER]]


async def test_a_dm_ref_that_is_no_user_id_is_permanent(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    with pytest.raises(PermanentDeliveryError, match="not a Discord user id"):
        await adapter.send(ChannelRef.dm(Platform.DISCORD, GUILD_ID, "alice"), TextReply("hello"))
    assert CREATE_DM not in fake.requests and not fake.posted

"""Follow-ups and weekly rollups through the real discord.py against the loopback fake Discord.

A follow-up goes in the thread of the message that carried its paper: the thread a long digest already
has, or one started now; when no thread can take it (no permission, archived and locked, the message
deleted), a reply to that message in the channel. It is found again by its marker after a crash.
"""

from __future__ import annotations

from datetime import date, timedelta

from adapters.discord import render as discord_render
from adapters.discord.adapter import DiscordAdapter
from bot.types import ArtifactKind, Digest, DigestEntry, DigestReason, FollowUp, TopicWeek, WeeklyRollup
from tests.fakes.discord import CHANNEL, NOW, FakeDiscord, paper

DELIVERY = "4b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e"


def followup(parent: str, *, kind: ArtifactKind = ArtifactKind.CODE) -> FollowUp:
    return FollowUp(CHANNEL, paper(1), kind, parent, "github.com/org/repo", stars=1234)


async def post_digest(adapter: DiscordAdapter, papers: int) -> str:
    entries = tuple(DigestEntry(paper(i), DigestReason.TOPIC, ("agents",)) for i in range(1, papers + 1))
    sent = await adapter.send(CHANNEL, Digest(CHANNEL, NOW.date(), entries), delivery_id="d" * 32)
    return sent.message_id


async def test_a_followup_starts_a_thread_under_a_one_part_digest(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    parent = await post_digest(adapter, 3)
    sent = await adapter.send(CHANNEL, followup(parent), delivery_id=DELIVERY)
    (thread,) = fake.threads
    assert thread["from_message"] == parent and thread["name"] == "Paperboy follow-ups"
    post = fake.posted[-1]
    assert (post.id, post.channel_id) == (sent.message_id, parent)
    assert "**Code released:** [github.com/org/repo](<https://github.com/x/y>) · ★ 1.2k" in post.content
    assert discord_render.marker_positions(post.body, DELIVERY) == {0}
    assert post.body["allowed_mentions"] == {"parse": []} and post.body["enforce_nonce"] is True
    since = NOW - timedelta(days=1)
    assert await adapter.find_parts(CHANNEL, DELIVERY, since, {}, under=parent) == {0: sent.message_id}
    assert await adapter.find_parts(CHANNEL, "another-delivery", since, {}, under=parent) == {}


async def test_a_followup_joins_the_thread_a_long_digest_has(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    parent = await post_digest(adapter, 25)
    (thread,) = fake.threads
    await adapter.send(CHANNEL, followup(parent), delivery_id=DELIVERY)
    assert len(fake.threads) == 1, "Discord's 160004: the digest's thread is the one"
    assert fake.posted[-1].channel_id == thread["id"] == parent


async def test_without_thread_permission_a_followup_replies_in_the_channel(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    parent = await post_digest(adapter, 3)
    fake.knobs.thread_forbidden = True
    sent = await adapter.send(CHANNEL, followup(parent), delivery_id=DELIVERY)
    post = fake.posted[-1]
    assert post.channel_id == CHANNEL.channel_id and not fake.threads
    assert post.body["message_reference"] == {"message_id": parent, "fail_if_not_exists": False}
    found = await adapter.find_parts(CHANNEL, DELIVERY, NOW - timedelta(days=1), {}, under=parent)
    assert found == {0: sent.message_id}


async def test_a_locked_thread_or_a_deleted_message_does_not_stop_a_followup(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    parent = await post_digest(adapter, 25)
    fake.knobs.locked_threads.add(parent)
    await adapter.send(CHANNEL, followup(parent), delivery_id=DELIVERY)
    assert fake.posted[-1].channel_id == CHANNEL.channel_id
    assert fake.posted[-1].body["message_reference"]["message_id"] == parent
    # The carrying message is gone: no thread can start from it; the reply posts as a plain message.
    gone = "99999999999999999"
    await adapter.send(CHANNEL, followup(gone, kind=ArtifactKind.MODEL), delivery_id=DELIVERY[::-1])
    assert fake.posted[-1].channel_id == CHANNEL.channel_id
    assert fake.posted[-1].body["message_reference"] == {"message_id": gone, "fail_if_not_exists": False}
    assert not fake.rejected


async def test_a_weekly_rollup_of_many_topics_keeps_to_discords_limits(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    topics = tuple(
        TopicWeek(f"topic {i} " + "x" * 250, 40 + i, tuple(paper(j) for j in range(1, 4))) for i in range(25)
    )
    rollup = WeeklyRollup(CHANNEL, "2026-W10", date(2026, 2, 23), date(2026, 3, 1), topics)
    sent = await adapter.send(CHANNEL, rollup, delivery_id=DELIVERY)
    assert not fake.rejected
    assert len(fake.posted) == 1 + len(sent.extra_ids) and len(fake.posted) >= 2
    fields = [f for p in fake.posted for e in p.embeds for f in e.get("fields", [])]
    assert len(fields) == 25 and fields[0]["value"].startswith("40 papers this week")
    assert "Your week in papers" in fake.posted[0].content
    for position, post in enumerate(fake.posted):
        assert discord_render.marker_positions(post.body, DELIVERY) == {position}

"""Forum and announcement channels through the real discord.py against the loopback fake Discord.

Forum (15) and media (16) channels get one post per paper, named by its title (cut to 100), its card
as the first message, tagged by name among the forum's tags (created when Paperboy may, listed in
`status` when it may not); a crash is recovered by listing the forum's posts and reading their markers.
Announcement channels (5) get each channel-level digest message published; a publish Discord holds back
(10 per hour per channel) waits and is published later, never by posting the message again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.discord import render as discord_render
from adapters.discord.adapter import DiscordAdapter
from bot.actions import paper_actions
from bot.channel_notes import ChannelNotes
from bot.clock import FixedClock
from bot.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.types import ArtifactKind, ChannelRef, Digest, DigestEntry, DigestReason, FollowUp
from tests.fakes.discord import GUILD_ID, NOW, FakeCore, FakeDiscord, MemoryKV, paper, settings_for, slash

FORUM = ChannelRef.parse(f"discord:{GUILD_ID}:555")
NEWS = ChannelRef.parse(f"discord:{GUILD_ID}:777")
DELIVERY = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
SINCE = NOW - timedelta(minutes=5)


def digest(ref: ChannelRef, papers: int, *, topic: str = "agents", first: int = 1) -> Digest:
    entries = tuple(
        DigestEntry(
            paper(i),
            DigestReason.TRENDING if i % 2 else DigestReason.TOPIC,
            () if i % 2 else (topic,),
            actions=paper_actions(paper(i)),
        )
        for i in range(first, first + papers)
    )
    return Digest(ref, NOW.date(), entries)


@pytest.fixture
def kv() -> MemoryKV:
    return MemoryKV()


@pytest.fixture
async def feeds_adapter(fake: FakeDiscord, core: FakeCore, kv: MemoryKV) -> AsyncIterator[DiscordAdapter]:
    a = DiscordAdapter(settings_for(fake), clock=FixedClock(NOW), kv=kv)
    await a.start(core, ready_timeout=10)
    yield a
    await a.stop()


@pytest.mark.parametrize("kind", [15, 16])
async def test_each_paper_becomes_a_tagged_forum_post_with_its_card(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord, kind: int
) -> None:
    fake.add_forum(FORUM.channel_id, ["trending", "Agents", "vision"], kind=kind)
    long_title = paper(1, title="A " + "very " * 40 + "long title")
    message = digest(FORUM, 4)
    message = Digest(FORUM, message.day, (DigestEntry(long_title, DigestReason.TRENDING), *message.entries[1:]))
    sent = await feeds_adapter.send(FORUM, message, delivery_id=DELIVERY)

    posts = fake.forum_threads(FORUM.channel_id)
    assert [p["id"] for p in posts] == [sent.message_id, *sent.extra_ids], "one post per paper, in order"
    assert not fake.messages.get(FORUM.channel_id), "no separate summary message in a forum"
    assert 90 <= len(posts[0]["name"]) <= 100 and posts[0]["name"].endswith("…"), "cut to Discord's 100"
    assert [p["name"] for p in posts[1:]] == [paper(i).title for i in (2, 3, 4)]
    # Tags by name, case-insensitively: trending papers get "trending", topic matches their topic's tag.
    assert [fake.tag_names(FORUM.channel_id, p["applied_tags"]) for p in posts] == [
        ["trending"],
        ["Agents"],
        ["trending"],
        ["Agents"],
    ]
    starter = fake.messages[posts[1]["id"]][0]
    assert starter["embeds"][0]["url"] == paper(2).hf_url
    assert starter["components"], "the card keeps its buttons"
    assert discord_render.marker_positions(starter, DELIVERY) == {1}
    assert not fake.rejected


async def test_missing_tags_are_created_when_allowed_and_never_removed(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    fake.add_forum(FORUM.channel_id, ["moderators-pick"])
    await feeds_adapter.send(FORUM, digest(FORUM, 2, topic="mixture of experts"), delivery_id=DELIVERY)
    names = [t["name"] for t in fake.channels[FORUM.channel_id]["available_tags"]]
    assert names == ["moderators-pick", "trending", "mixture of experts"]
    posts = fake.forum_threads(FORUM.channel_id)
    assert [fake.tag_names(FORUM.channel_id, p["applied_tags"]) for p in posts] == [
        ["trending"],
        ["mixture of experts"],
    ]


async def test_without_manage_channels_status_lists_the_tags_a_moderator_could_add(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord, kv: MemoryKV
) -> None:
    fake.add_forum(FORUM.channel_id, [])
    fake.knobs.no_manage_channels.add(FORUM.channel_id)
    await feeds_adapter.send(FORUM, digest(FORUM, 2, topic="rlhf"), delivery_id=DELIVERY)
    posts = fake.forum_threads(FORUM.channel_id)
    assert len(posts) == 2 and all(p["applied_tags"] == [] for p in posts), "posted untagged, not paused"
    (note,) = await ChannelNotes(kv).get(FORUM)
    assert "`trending`, `rlhf`" in note and "Manage Channels" in note


async def test_tags_stay_within_discords_twenty(feeds_adapter: DiscordAdapter, fake: FakeDiscord, kv: MemoryKV) -> None:
    fake.add_forum(FORUM.channel_id, [f"tag{i}" for i in range(19)])
    await feeds_adapter.send(FORUM, digest(FORUM, 4, topic="agents"), delivery_id=DELIVERY)
    tags = fake.channels[FORUM.channel_id]["available_tags"]
    assert len(tags) == 20 and [t["name"] for t in tags][:19] == [f"tag{i}" for i in range(19)]
    assert tags[-1]["name"] == "trending"
    (note,) = await ChannelNotes(kv).get(FORUM)
    assert "20 tags" in note and "`agents`" in note
    assert not fake.rejected


async def test_recovery_finds_the_posts_made_and_creates_only_the_missing_in_order(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    fake.add_forum(FORUM.channel_id, ["trending"])
    message = digest(FORUM, 5)
    recorded: dict[int, str] = {}

    async def die_after_two(position: int, message_id: str) -> None:
        recorded[position] = message_id
        if position == 1:
            raise RuntimeError("killed before recording more")

    with pytest.raises(RuntimeError):
        await feeds_adapter.send(FORUM, message, delivery_id=DELIVERY, on_part=die_after_two)
    made = fake.forum_threads(FORUM.channel_id)
    assert len(made) == 2
    fake.archive(made[0]["id"])  # an archived post is found too
    # Only part 0 was recorded; the marker finds part 1 as well.
    found = await feeds_adapter.find_parts(FORUM, DELIVERY, SINCE, {0: recorded[0]})
    assert found == {0: made[0]["id"], 1: made[1]["id"]}
    assert await feeds_adapter.find_parts(FORUM, "another-delivery-id-000000000000", SINCE, {}) == {}
    sent = await feeds_adapter.send(FORUM, message, delivery_id=DELIVERY, posted=found)
    posts = fake.forum_threads(FORUM.channel_id)
    assert [p["name"] for p in posts] == [e.paper.title for e in message.entries], "no duplicate, in order"
    assert [sent.message_id, *sent.extra_ids] == [p["id"] for p in posts]


async def test_a_followup_goes_into_the_papers_own_post(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord, kv: MemoryKV
) -> None:
    fake.add_forum(FORUM.channel_id, ["trending"])
    sent = await feeds_adapter.send(FORUM, digest(FORUM, 3), delivery_id=DELIVERY)
    third = sent.extra_ids[1]
    news = FollowUp(FORUM, paper(3), ArtifactKind.CODE, sent.message_id, "github.com/org/repo")
    followup_id = "0a0b0c0d0e0f0a0b0c0d0e0f0a0b0c0d"
    done = await feeds_adapter.send(FORUM, news, delivery_id=followup_id)
    assert fake.posted[-1].channel_id == third, "in paper 3's post, not the digest's first post"
    found = await feeds_adapter.find_parts(FORUM, followup_id, SINCE, {}, under=sent.message_id)
    assert found == {0: done.message_id}


async def test_a_forum_without_permission_pauses_with_the_permission_named(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    fake.add_forum(FORUM.channel_id, [])
    fake.knobs.no_send_messages.add(FORUM.channel_id)
    with pytest.raises(PermanentDeliveryError) as raised:
        await feeds_adapter.send(FORUM, digest(FORUM, 1), delivery_id=DELIVERY)
    assert "50013" in raised.value.reason and "Send Messages" in raised.value.reason


async def test_an_announcement_channel_publishes_each_digest_message(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    fake.add_channel(NEWS.channel_id, 5)
    sent = await feeds_adapter.send(NEWS, digest(NEWS, 25), delivery_id=DELIVERY)
    assert sent.extra_ids, "a long digest continues in its thread"
    assert fake.crossposted == [(NEWS.channel_id, sent.message_id)], "the channel message, not the thread's"
    # A plain text channel publishes nothing.
    await feeds_adapter.send(ChannelRef.parse(f"discord:{GUILD_ID}:888"), digest(NEWS, 2), delivery_id=DELIVERY)
    assert len(fake.crossposted) == 1


async def test_crossposts_over_the_hourly_limit_wait_and_are_never_posted_twice(
    fake: FakeDiscord, core: FakeCore, kv: MemoryKV
) -> None:
    clock = FixedClock(NOW)
    adapter = DiscordAdapter(settings_for(fake), clock=clock, kv=kv)
    await adapter.start(core, ready_timeout=10)
    try:
        fake.add_channel(NEWS.channel_id, 5)
        for day in range(12):
            message = digest(NEWS, 1, first=day + 1)
            message = Digest(NEWS, NOW.date() + timedelta(days=day), message.entries)
            await adapter.send(NEWS, message, delivery_id=f"{day:02d}" + DELIVERY[2:])
        posted = [p.id for p in fake.posted if p.channel_id == NEWS.channel_id]
        assert len(posted) == 12, "every digest posted once"
        assert [m for _, m in fake.crossposted] == posted[:10]
        assert await adapter.feeds.held_crossposts(NEWS) == posted[10:]
        (note,) = await ChannelNotes(kv).get(NEWS)
        assert "Crossposts held back: 2" in note
        # Not yet: Discord's hour has not passed; nothing is retried early.
        assert await adapter.feeds.flush_crossposts(NEWS) == 0
        fake.crosspost_clock_offset += 3600
        clock.advance(timedelta(hours=1))
        assert await adapter.feeds.flush_crossposts(NEWS) == 2
        assert [m for _, m in fake.crossposted] == posted
        assert [p.id for p in fake.posted if p.channel_id == NEWS.channel_id] == posted, "nothing re-posted"
        assert await ChannelNotes(kv).get(NEWS) == ()
    finally:
        await adapter.stop()


async def test_a_digest_found_after_a_crash_is_published_if_it_was_not(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    fake.add_channel(NEWS.channel_id, 5)
    fake.crosspost_window = 3600.0
    fake.crosspost_clock_offset = 0.0

    async def die(position: int, message_id: str) -> None:
        raise RuntimeError("killed between the post and the publish")

    with pytest.raises(RuntimeError):
        await feeds_adapter.send(NEWS, digest(NEWS, 2), delivery_id=DELIVERY, on_part=die)
    assert fake.crossposted == []
    found = await feeds_adapter.find_parts(NEWS, DELIVERY, SINCE, {})
    assert list(found) == [0]
    assert fake.crossposted == [(NEWS.channel_id, found[0])]
    await feeds_adapter.find_parts(NEWS, DELIVERY, SINCE, {})
    assert len(fake.crossposted) == 1, "published once"


async def test_threads_on_opens_a_discussion_thread_on_each_digest_named_by_day(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    text = ChannelRef.parse(f"discord:{GUILD_ID}:999")
    plain = await feeds_adapter.send(text, digest(text, 3), delivery_id=DELIVERY)
    assert not fake.threads, "off by default: a short digest has no thread"
    asked = replace(digest(text, 3, first=10), threads=True)
    sent = await feeds_adapter.send(text, asked, delivery_id=DELIVERY[::-1])
    (thread,) = fake.threads
    assert thread["from_message"] == sent.message_id != plain.message_id
    assert thread["name"] == f"Paperboy digest {NOW.date():%Y-%m-%d}"
    # Finishing it again after a crash (every part found) keeps the one thread.
    await feeds_adapter.send(text, asked, delivery_id=DELIVERY[::-1], posted={0: sent.message_id})
    assert len(fake.threads) == 1 and len([p for p in fake.posted if p.channel_id == text.channel_id]) == 2


async def test_threads_on_without_create_public_threads_says_so_in_status(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord, kv: MemoryKV
) -> None:
    text = ChannelRef.parse(f"discord:{GUILD_ID}:999")
    fake.knobs.thread_forbidden = True
    await feeds_adapter.send(text, replace(digest(text, 2), threads=True), delivery_id=DELIVERY)
    assert [p.channel_id for p in fake.posted] == [text.channel_id], "the digest itself still posts"
    (note,) = await ChannelNotes(kv).get(text)
    assert "Create Public Threads" in note
    fake.knobs.thread_forbidden = False
    await feeds_adapter.send(text, replace(digest(text, 2, first=5), threads=True), delivery_id=DELIVERY[::-1])
    assert await ChannelNotes(kv).get(text) == (), "cleared once it works"


async def test_a_command_in_a_channel_teaches_its_kind_so_the_digest_asks_nothing(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord, kv: MemoryKV
) -> None:
    fake.add_channel(NEWS.channel_id, 5)
    interaction = slash("today", channel_id=NEWS.channel_id)
    interaction["channel"]["type"] = 5
    await fake.push_interaction(interaction)
    await fake.wait_for(lambda: any(p.via == "followup" for p in fake.posted))
    await feeds_adapter.send(NEWS, digest(NEWS, 2), delivery_id=DELIVERY)
    assert ("GET", f"/api/v10/channels/{NEWS.channel_id}") not in fake.requests
    assert len(fake.crossposted) == 1, "published: the kind came from the command"


async def test_a_channel_turned_into_a_forum_is_posted_the_forum_way_without_a_pause(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    await feeds_adapter.send(FORUM, digest(FORUM, 1), delivery_id=DELIVERY)  # a text channel then
    fake.add_forum(FORUM.channel_id, ["trending"])
    with pytest.raises(RetryableDeliveryError) as raised:
        await feeds_adapter.send(FORUM, digest(FORUM, 2, first=5), delivery_id=DELIVERY[::-1])
    assert raised.value.retry_after == 0.0, "sure nothing was posted: no need to look before retrying"
    await feeds_adapter.send(FORUM, digest(FORUM, 2, first=5), delivery_id=DELIVERY[::-1])
    assert len(fake.forum_threads(FORUM.channel_id)) == 2


async def test_a_forum_that_requires_tags_pauses_saying_how_to_fix_it(
    feeds_adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    forum = fake.add_forum(FORUM.channel_id, [])
    forum["flags"] = 1 << 4  # REQUIRE_TAG
    fake.knobs.no_manage_channels.add(FORUM.channel_id)
    with pytest.raises(PermanentDeliveryError) as raised:
        await feeds_adapter.send(FORUM, digest(FORUM, 1), delivery_id=DELIVERY)
    assert "requires a tag" in raised.value.reason and "`trending`" in raised.value.reason

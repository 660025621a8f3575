"""The real discord.py against a loopback fake Discord: login, sync, interactions, posting."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord import render as discord_render
from adapters.discord.adapter import COMMANDS_HASH_KEY, DiscordAdapter
from bot.clock import FixedClock
from bot.errors import PaperboyError, PermanentDeliveryError, RetryableDeliveryError
from bot.ports import Suggestion
from bot.types import ChannelRef, Digest, DigestEntry, DigestReason, ListedPaper, PaperList, TextReply
from tests.fakes.discord import (
    CHANNEL,
    EXPORTED,
    GUILD_ID,
    NOW,
    SPECS,
    FakeCore,
    FakeDiscord,
    MemoryKV,
    autocomplete,
    button,
    paper,
    settings_for,
    slash,
)

MANAGE_CHANNELS = 1 << 4


def _group(fake: FakeDiscord) -> dict:
    (guild, payload), *_ = fake.command_puts
    assert guild is None
    (group,) = payload
    return group


async def test_login_syncs_one_papers_group_with_typed_options(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    group = _group(fake)
    assert group["name"] == "papers"
    assert group["default_member_permissions"] is None
    subs = {o["name"]: o for o in group["options"]}
    assert list(subs) == [s.name for s in SPECS]
    assert all(o["type"] == 1 for o in subs.values())
    n = subs["today"]["options"][0]
    assert (n["type"], n["min_value"], n["max_value"], n["required"]) == (4, 1, 25, False)
    period = subs["top"]["options"][0]
    assert period["required"] is True
    assert [c["value"] for c in period["choices"]] == ["week", "month"]
    assert subs["unsubscribe"]["options"][0]["autocomplete"] is True
    assert [o["name"] for o in subs["digest"]["options"]] == ["action", "time", "timezone"]
    assert all(len(o["description"]) <= 100 for o in subs.values())
    # gateway: minimal intents (guilds only, nothing privileged)
    assert fake.identifies[0]["intents"] == 1


async def test_second_start_with_same_commands_does_not_sync(fake: FakeDiscord, core: FakeCore) -> None:
    kv = MemoryKV()
    first = DiscordAdapter(settings_for(fake), clock=FixedClock(NOW), kv=kv)
    await first.start(core, ready_timeout=10)
    await first.stop()
    assert len(fake.command_puts) == 1
    assert COMMANDS_HASH_KEY in kv.data

    second = DiscordAdapter(settings_for(fake), clock=FixedClock(NOW), kv=kv)
    await second.start(core, ready_timeout=10)
    await second.stop()
    assert len(fake.command_puts) == 1  # same hash: no sync

    third = DiscordAdapter(settings_for(fake), clock=FixedClock(NOW), kv=kv)
    fewer = FakeCore()
    fewer.specs_served = SPECS[:-1]
    await third.start(fewer, ready_timeout=10)
    try:
        assert len(fake.command_puts) == 2  # commands changed: synced again
        assert await third.sync(guild_id=222222222222222222) == 1
        assert fake.command_puts[-1][0] == "222222222222222222"
    finally:
        await third.stop()


async def test_stop_restores_discord_endpoints(fake: FakeDiscord, core: FakeCore) -> None:
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    a = DiscordAdapter(settings_for(fake), clock=FixedClock(NOW))
    await a.start(core, ready_timeout=10)
    assert fake.api_base == Route.BASE
    await a.stop()
    assert (base, gateway) == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)


async def test_refused_token_fails_start_clearly_without_leaking_it(
    fake: FakeDiscord, core: FakeCore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.knobs.refuse_login = True
    a = DiscordAdapter(settings_for(fake), clock=FixedClock(NOW))
    with pytest.raises(PaperboyError, match=r"rejected the token \(401\): check DISCORD_TOKEN"):
        await a.start(core, ready_timeout=10)
    assert "fake-token-SECRET" not in caplog.text


async def test_sharded_client_identifies_with_its_shard(fake: FakeDiscord, core: FakeCore) -> None:
    a = DiscordAdapter(settings_for(fake, shard_count=1, shard_ids=[0]), clock=FixedClock(NOW))
    await a.start(core, ready_timeout=10)
    try:
        assert fake.identifies[0]["shard"] == [0, 1]
    finally:
        await a.stop()


async def _run(fake: FakeDiscord, core: FakeCore, payload: dict, replies: int = 1) -> list:
    before = len(fake.posted)
    seen = len(core.invocations)
    await fake.push_interaction(payload)
    await fake.wait_for(lambda: len(fake.posted) >= before + replies and len(core.invocations) > seen)
    return fake.posted[before:]


async def test_subcommands_reach_the_core_as_typed_options_with_permission(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore
) -> None:
    await _run(fake, core, slash("top", {"period": "week", "n": 5}))
    await _run(fake, core, slash("search", {"query": "moe -survey"}, permissions=MANAGE_CHANNELS))
    await _run(fake, core, slash("digest", {"action": "at", "time": "08:30", "timezone": "Europe/Paris"}))
    top, search, digest = core.invocations
    assert (top.command, top.options) == ("top", (("period", "week"), ("n", 5)))
    assert (search.command, search.options) == ("search", (("query", "moe -survey"),))
    assert digest.command == "digest"
    assert digest.options == (("action", "at"), ("time", "08:30"), ("timezone", "Europe/Paris"))
    assert str(top.channel) == "discord:222222222222222222:333"
    assert top.user.user_id == "444"
    assert top.permission.can_manage_channel is False
    assert search.permission.can_manage_channel is True
    assert top.permission.who_can == "members with Manage Channels"
    assert top.received_at == NOW
    assert not top.is_direct_message


async def test_manage_channels_decides_whether_subscribe_changes_anything(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore
) -> None:
    refused = await _run(fake, core, slash("subscribe", {"query": "diffusion"}, permissions=0))
    allowed = await _run(fake, core, slash("subscribe", {"query": "diffusion"}, permissions=MANAGE_CHANNELS))
    assert refused[0].content.startswith("⚠️ Only members with Manage Channels")
    assert refused[0].ephemeral  # a private error, even though the command itself was public
    assert allowed[0].content == "ok: subscribe diffusion"
    assert not allowed[0].ephemeral


async def test_dm_invocation(adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore) -> None:
    await _run(fake, core, slash("help", guild_id=None, channel_id="555"))
    (inv,) = core.invocations
    assert inv.is_direct_message
    assert str(inv.channel) == "discord:@dm:555"


async def test_deferral_arrives_before_the_slow_reply(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore
) -> None:
    core.delay = 0.3
    payload = slash("today", {"n": 3})
    await fake.push_interaction(payload)
    await fake.wait_for(lambda: bool(core.invocations))
    # the core is still sleeping, and Discord already has its answer
    await fake.wait_for(lambda: f"callback:{payload['id']}" in fake.events, within=0.2)
    assert not fake.posted
    await fake.wait_for(lambda: bool(fake.posted))
    callback = fake.events.index(f"callback:{payload['id']}")
    followup = fake.events.index(f"followup:{payload['token']}")
    assert callback < followup
    assert fake.callbacks[0]["type"] == 5  # deferred channel message ("thinking")


async def test_private_subcommand_is_ephemeral(adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore) -> None:
    posted = await _run(fake, core, slash("status"))
    assert fake.callbacks[-1]["data"]["flags"] & 64
    assert posted[0].ephemeral
    assert posted[0].embeds[0]["title"] == "Paperboy status for this channel"


async def test_public_reply_keeps_papers_visible_and_mentions_off(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore
) -> None:
    posted = await _run(fake, core, slash("today"))
    assert not fake.callbacks[-1].get("data", {}).get("flags", 0) & 64
    reply = posted[0]
    assert not reply.ephemeral
    assert len(reply.embeds) == 3
    assert reply.body["allowed_mentions"]["parse"] == []
    buttons = [b for row in reply.body["components"] for b in row["components"]]
    assert [b["custom_id"] for b in buttons] == [
        button
        for n in (1, 2, 3)
        for button in (
            *(f"pb:{action}:2403.0000{n}" for action in ("like", "dislike", "similar", "save")),
            f"pb:follow:like%202403.0000{n}",
        )
    ]


async def test_vote_buttons_run_like_and_dislike_privately(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore
) -> None:
    liked = await _run(fake, core, button("pb:like:2403.00001"))
    disliked = await _run(fake, core, button("pb:dislike:2403.00002"))
    assert [(i.command, i.args) for i in core.invocations] == [("like", ("2403.00001",)), ("dislike", ("2403.00002",))]
    assert core.invocations[0].user.user_id == "444" and not core.invocations[0].permission.can_manage_channel
    assert liked[0].ephemeral and disliked[0].ephemeral, "a vote is acknowledged privately"
    assert "Noted" in liked[0].content


async def test_buttons_run_similar_privately_and_unsubscribe(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore
) -> None:
    similar = await _run(fake, core, button("pb:similar:2403.00001"))
    await _run(fake, core, button("pb:unsubscribe:7", permissions=MANAGE_CHANNELS))
    await _run(fake, core, button("pb:unsub:8", permissions=MANAGE_CHANNELS))  # posted by an older Paperboy
    assert [(i.command, i.args) for i in core.invocations] == [
        ("similar", ("2403.00001",)),
        ("unsubscribe", ("7",)),
        ("unsubscribe", ("8",)),
    ]
    assert core.invocations[1].permission.can_manage_channel
    assert similar[0].ephemeral
    assert fake.callbacks[0]["type"] == 5 and fake.callbacks[0]["data"]["flags"] & 64


async def test_foreign_buttons_run_nothing_and_are_answered(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore
) -> None:
    await fake.push_interaction(button("hello"))
    await _run(fake, core, slash("help"))  # a later interaction is processed, the button was not
    assert [i.command for i in core.invocations] == ["help"]
    refusal = fake.callbacks[0]
    assert refusal["type"] == 4 and refusal["data"]["flags"] & 64, "a private error, not 'interaction failed'"


async def test_unsubscribe_autocompletes_the_channels_topics(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore
) -> None:
    core.suggestions = [Suggestion("#1 mixture of experts", "1"), Suggestion('#7 "model merging" -survey', "7")]
    await fake.push_interaction(autocomplete("unsubscribe", "topic", "merg"))
    await fake.wait_for(lambda: bool(fake.callbacks))
    callback = fake.callbacks[0]
    assert callback["type"] == 8
    assert callback["data"]["choices"] == [{"name": '#7 "model merging" -survey', "value": "7"}]
    ((asked, param, current),) = core.suggested
    assert (asked.command, param, current) == ("unsubscribe", "topic", "merg")
    assert str(asked.channel) == "discord:222222222222222222:333"


async def test_interaction_digest_continues_in_follow_ups(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore
) -> None:
    posted = await _run(fake, core, slash("digest", {"action": "now"}, permissions=MANAGE_CHANNELS), replies=2)
    await fake.wait_for(lambda: sum(len(p.embeds) for p in fake.posted) == 12)
    assert sum(len(p.embeds) for p in fake.posted) == 12
    assert posted[0].content.startswith("📰 **Paperboy digest")
    assert not fake.rejected


# ------------------------------------------------------------------------------------- send()


def _list(n: int = 3) -> PaperList:
    return PaperList("Trending", tuple(ListedPaper(paper(i)) for i in range(1, n + 1)))


async def test_fan_out_survives_a_429_and_posts_everything_once(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    channels = [ChannelRef.parse(f"discord:222222222222222222:{c}") for c in ("401", "402", "403")]
    fake.knobs.rate_limit["402"] = 1
    for i, channel in enumerate(channels):
        sent = await adapter.send(channel, _list(), delivery_id=f"delivery-{i}")
        assert sent.message_id
    assert "429:402" in fake.events
    per_channel = [p.channel_id for p in fake.posted]
    assert sorted(per_channel) == ["401", "402", "403"]
    for post in fake.posted:
        assert post.body["allowed_mentions"] == {"parse": []}
        assert post.body["enforce_nonce"] is True
        assert 0 < len(post.body["nonce"]) <= 25


async def test_replicas_sharing_a_bot_split_its_global_limit(fake: FakeDiscord) -> None:
    """Two replicas with one token, each set to half of a 10/s global limit: no global 429 at all."""
    fake.global_rate = 10
    replicas = []
    for _ in range(2):
        replica = DiscordAdapter(settings_for(fake, requests_per_second=5), clock=FixedClock(NOW), kv=MemoryKV())
        await replica.start(FakeCore(), ready_timeout=10)
        replicas.append(replica)
    try:
        await asyncio.sleep(1.1)  # start-up requests (command sync) out of the fake's one-second window

        async def fan_out(replica: DiscordAdapter, first: int) -> None:
            for c in range(first, first + 12):
                await replica.send(ChannelRef.parse(f"discord:222222222222222222:{c}"), _list(1))

        await asyncio.wait_for(asyncio.gather(fan_out(replicas[0], 500), fan_out(replicas[1], 600)), timeout=30)
    finally:
        for replica in replicas:
            await replica.stop()
    assert len(fake.posted) == 24
    assert fake.rate_limited_requests == 0


async def test_permanent_errors_name_the_reason(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    gone = ChannelRef.parse("discord:222222222222222222:404")
    locked = ChannelRef.parse("discord:222222222222222222:403")
    fake.knobs.permanent["404"] = (404, 10003, "Unknown Channel")
    fake.knobs.permanent["403"] = (403, 50013, "Missing Permissions")
    with pytest.raises(PermanentDeliveryError, match="Unknown Channel, 10003"):
        await adapter.send(gone, _list())
    with pytest.raises(PermanentDeliveryError) as info:
        await adapter.send(locked, _list())
    assert info.value.reason == "Discord says Paperboy lacks permission to post here (Missing Permissions, 50013)"
    # the other channels are not blocked
    await adapter.send(CHANNEL, _list())
    assert [p.channel_id for p in fake.posted] == ["333"]


async def test_server_errors_are_retryable(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    fake.knobs.server_error["333"] = 1
    with pytest.raises(RetryableDeliveryError):
        await adapter.send(CHANNEL, _list())
    await adapter.send(CHANNEL, _list())
    assert len(fake.posted) == 1


async def test_long_digest_continues_in_a_thread(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    entries = tuple(DigestEntry(paper(i), DigestReason.TOPIC, ("mixture of experts",)) for i in range(1, 26))
    digest = Digest(CHANNEL, NOW.date(), entries, delivery_id="0f3c9a2e-7d41-4b8a-9f00-1234567890ab")
    sent = await adapter.send(CHANNEL, digest, delivery_id=digest.delivery_id)
    first, *rest = fake.posted
    assert first.channel_id == "333" and first.id == sent.message_id
    (thread,) = fake.threads
    assert thread["from_message"] == first.id
    assert rest and all(p.channel_id == thread["id"] for p in rest)
    assert list(sent.extra_ids) == [p.id for p in rest]
    assert sum(len(p.embeds) for p in fake.posted) == 25
    # Every part carries its own nonce and visible marker, so a retry is refused and a crash is readable.
    nonces = [p.body["nonce"] for p in fake.posted]
    assert len(set(nonces)) == len(nonces) and all(p.body["enforce_nonce"] for p in fake.posted)
    for position, post in enumerate(fake.posted):
        assert discord_render.marker_positions(post.body, digest.delivery_id) == {position}
    assert not fake.rejected


async def test_a_resumed_digest_posts_only_the_missing_parts_in_the_same_thread(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    entries = tuple(DigestEntry(paper(i), DigestReason.TOPIC, ("mixture of experts",)) for i in range(1, 26))
    digest = Digest(CHANNEL, NOW.date(), entries, delivery_id="5e2c9a2e7d414b8a9f001234567890ab")
    landed: dict[int, str] = {}

    async def record(position: int, message_id: str) -> None:
        landed[position] = message_id

    sent = await adapter.send(CHANNEL, digest, delivery_id=digest.delivery_id, on_part=record)
    parts = [sent.message_id, *sent.extra_ids]
    assert len(parts) >= 3
    # As if the process died after the first follow-up: the thread exists, the rest never went out.
    (thread,) = fake.threads
    kept = fake.posted[:2]
    fake.posted[:] = kept
    fake.messages[thread["id"]] = [m for m in fake.messages[thread["id"]] if m["id"] == kept[1].id]
    fake.forget_nonces(keep={p.id for p in kept})
    since = NOW - timedelta(days=1)
    found = await adapter.find_parts(CHANNEL, digest.delivery_id, since, {})
    assert found == {0: parts[0], 1: parts[1]}
    resumed = await adapter.send(CHANNEL, digest, delivery_id=digest.delivery_id, posted=found)
    assert resumed.message_id == parts[0]
    assert len(fake.threads) == 1, "the thread made before the crash is used again"
    assert [p.channel_id for p in fake.posted[2:]] == [thread["id"]] * (len(parts) - 2)
    assert sum(len(p.embeds) for p in fake.posted) == 25


async def test_digest_follow_ups_stay_in_channel_without_thread_permission(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    fake.knobs.thread_forbidden = True
    entries = tuple(DigestEntry(paper(i), DigestReason.TRENDING) for i in range(1, 26))
    await adapter.send(CHANNEL, Digest(CHANNEL, NOW.date(), entries))
    assert {p.channel_id for p in fake.posted} == {"333"}
    assert sum(len(p.embeds) for p in fake.posted) == 25


async def test_find_parts_finds_the_marker(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    await adapter.send(CHANNEL, TextReply("unrelated"))
    sent = await adapter.send(CHANNEL, _list(), delivery_id="d1e2f3a4b5c6d7e8f9")
    await adapter.send(CHANNEL, TextReply("later"), delivery_id="other-delivery")
    since = NOW - timedelta(days=1)
    assert await adapter.find_parts(CHANNEL, "d1e2f3a4b5c6d7e8f9", since, {}) == {0: sent.message_id}
    assert await adapter.find_parts(CHANNEL, "never-posted-id", since, {}) == {}
    text_sent = await adapter.send(CHANNEL, TextReply("plain"), delivery_id="plain-text-delivery")
    assert await adapter.find_parts(CHANNEL, "plain-text-delivery", since, {}) == {0: text_sent.message_id}


async def test_find_parts_on_a_deleted_channel_is_permanent(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    fake.knobs.permanent["333"] = (404, 10003, "Unknown Channel")
    with pytest.raises(PermanentDeliveryError):
        await adapter.find_parts(CHANNEL, "x", NOW, {})


async def test_export_attaches_the_file_to_the_reply(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore
) -> None:
    [reply] = await _run(fake, core, slash("export", {"format": "bibtex"}))
    assert reply.body["_files"] == {"paperboy-library.bib": EXPORTED.encode()}
    assert reply.body["attachments"][0]["filename"] == "paperboy-library.bib"
    assert "3 papers" in reply.body["content"]
    assert reply.body["allowed_mentions"]["parse"] == []
    assert (core.invocations[-1].command, core.invocations[-1].options) == ("export", (("format", "bibtex"),))


async def test_with_read_links_a_paper_link_in_a_message_is_shared_as_a_card(fake: FakeDiscord, core: FakeCore) -> None:
    reader = DiscordAdapter(settings_for(fake, read_links=True), clock=FixedClock(NOW), kv=MemoryKV())
    await reader.start(core, ready_timeout=10)
    try:
        before = len(fake.posted)
        said = await fake.push_message("read this https://arxiv.org/abs/2403.00001v2, and https://example.org/x")
        await fake.wait_for(lambda: len(fake.posted) > before)
        [shared] = [i for i in core.invocations if i.command == "share"]
        assert shared.args == ("https://arxiv.org/abs/2403.00001v2",)
        assert (shared.channel.workspace_id, shared.channel.channel_id, shared.user.user_id) == (GUILD_ID, "333", "444")
        card = fake.posted[-1]
        assert card.channel_id == "333" and card.via == "channel" and card.embeds
        assert card.body["allowed_mentions"]["parse"] == []
        # The same message again (a gateway resume), a bot's message and a message without a paper link:
        # nothing more is shared.
        await fake.push_message("again https://arxiv.org/abs/2403.00001", message_id=said)
        await fake.push_message("https://huggingface.co/papers/2403.00002", bot=True)
        await fake.push_message("no links here")
        await fake.push_message("https://alphaxiv.org/abs/2403.00003")
        await fake.wait_for(lambda: len([i for i in core.invocations if i.command == "share"]) == 2)
        assert [i.args for i in core.invocations if i.command == "share"][1] == ("https://alphaxiv.org/abs/2403.00003",)
    finally:
        await reader.stop()


async def test_without_read_links_messages_are_not_read(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore
) -> None:
    await fake.push_message("https://arxiv.org/abs/2403.00001")
    await _run(fake, core, slash("status"))  # a later interaction is answered: the message was seen and dropped
    assert [i.command for i in core.invocations] == ["status"]

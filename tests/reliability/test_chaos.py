"""Fan-out under platform chaos: every channel's digest is seen exactly once, none is lost (DESIGN §6).

The real engine (SQLite, bundled sample) drives the real SlackAdapter and DiscordAdapter against the
loopback fakes, which answer a seeded mix of 429s, 5xx, timeouts and dropped connections, some of them
AFTER the message was posted (the answer is lost, the post is not). Runs repeat the way the schedule and
the recovery pass would until every channel is done; then the FAKES' logs, not Paperboy's records,
decide: one channel message per channel, carrying the recorded delivery's marker.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from pydantic import SecretStr

from adapters.discord.adapter import DiscordAdapter
from adapters.slack.adapter import SlackAdapter
from bot.clock import FixedClock
from bot.config import Settings, SlackSettings
from bot.delivery import RetryPolicy
from bot.digest_run import RunOutcome
from bot.ingest import seed_sample_if_empty
from bot.types import ChannelRef, DeliveryKind, DeliveryState, Platform
from paperboy.app import Paperboy
from tests.fakes.chaos import Chaos
from tests.fakes.discord import GUILD_ID, FakeDiscord, settings_for
from tests.fakes.slack import FakeSlack
from tests.reliability.support import (
    discord_channel_posts,
    discord_marker_count,
    slack_channel_posts,
    slack_markers,
)

# A Friday: the sample's last Daily Papers day, so every channel's digest has trending papers.
NOON = datetime(2025, 11, 28, 12, 0, tzinfo=UTC)
SLACK_TOKEN = "xoxb-t1-token"  # FakeSlack's workspace T1
CHANNELS_PER_PLATFORM = 100
ROUNDS = 8  # runs repeated by "the scheduler and recovery"; bounded
ROUND_TIMEOUT = 60.0
CLIENT_TIMEOUT = 1  # seconds; the fakes hold "timeout" answers longer than this


@dataclass
class World:
    app: Paperboy
    slack_fake: FakeSlack
    discord_fake: FakeDiscord
    slack_refs: list[ChannelRef]
    discord_refs: list[ChannelRef]

    @property
    def refs(self) -> list[ChannelRef]:
        return self.slack_refs + self.discord_refs


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    monkeypatch.setattr("adapters.discord.adapter.GUILD_READY_TIMEOUT", 0.05)
    slack_fake = await FakeSlack().start()
    discord_fake = FakeDiscord()
    await discord_fake.start()
    settings = Settings(
        data_dir=tmp_path,
        offline=True,
        slack=SlackSettings(
            bot_token=SecretStr(SLACK_TOKEN), signing_secret=SecretStr("secret"), api_url=slack_fake.api_url
        ),
        discord=settings_for(discord_fake),
    )
    clock = FixedClock(NOON)
    # Small waits keep the test fast; Retry-After from the fakes still wins over the backoff.
    policy = RetryPolicy(attempts=4, base_delay=0.05, max_delay=0.5)
    slack = SlackAdapter(
        settings.slack,
        web_app=web.Application(),
        clock=clock,
        min_post_interval=0.05,
        request_timeout=CLIENT_TIMEOUT,
    )
    discord = DiscordAdapter(settings.discord, clock=clock)
    app = Paperboy(settings, clock=clock, retry=policy, chat=[slack, discord])
    try:
        await app.start()
        await seed_sample_if_empty(app.db, clock)
        slack_refs = [ChannelRef(Platform.SLACK, "T1", f"C{i:04d}") for i in range(CHANNELS_PER_PLATFORM)]
        discord_refs = [ChannelRef(Platform.DISCORD, GUILD_ID, str(900_000 + i)) for i in range(CHANNELS_PER_PLATFORM)]
        for ref in slack_refs + discord_refs:
            await app.channels.ensure(ref)
        yield World(app, slack_fake, discord_fake, slack_refs, discord_refs)
    finally:
        await app.stop()
        await slack_fake.stop()
        await discord_fake.close()


async def deliver_until_done(world: World) -> int:
    """Run the fan-out, then again for what is unfinished, like the schedule and recovery would. Rounds used."""
    app = world.app
    pending = world.refs
    for round_no in range(1, ROUNDS + 1):
        runs = await asyncio.wait_for(app.runner.run_many(pending), timeout=ROUND_TIMEOUT)
        assert not [r for r in runs if r.outcome in (RunOutcome.PAUSED, RunOutcome.EMPTY, RunOutcome.WEEKEND)], runs
        await asyncio.wait_for(app.runner.recover(), timeout=ROUND_TIMEOUT)
        pending = []
        for ref in world.refs:
            d = await app.db.deliveries.get_by_key(ref, DeliveryKind.DIGEST, NOON.date().isoformat())
            if d is None or d.state is not DeliveryState.SENT:
                pending.append(ref)
        if not pending:
            return round_no
    raise AssertionError(f"{len(pending)} channels still undelivered after {ROUNDS} rounds: {pending[:5]}")


async def assert_exactly_once(world: World) -> None:
    day = NOON.date().isoformat()
    slack_posts = slack_channel_posts(world.slack_fake)
    markers = slack_markers(world.slack_fake)
    discord_posts = discord_channel_posts(world.discord_fake, [r.channel_id for r in world.discord_refs])
    problems: list[str] = []
    for ref in world.refs:
        d = await world.app.db.deliveries.get_by_key(ref, DeliveryKind.DIGEST, day)
        assert d is not None and d.state is DeliveryState.SENT, (ref, d)
        if ref.platform is Platform.SLACK:
            seen, marked = slack_posts[ref.channel_id], markers[(ref.channel_id, d.id)]
        else:
            seen = discord_posts[ref.channel_id]
            marked = discord_marker_count(world.discord_fake, ref.channel_id, d.id)
        if seen != 1 or marked != 1:
            problems.append(f"{ref.key}: {seen} channel messages, {marked} with delivery {d.id}'s marker")
    # Nothing landed anywhere else (a post to a channel Paperboy does not know would be a bug too).
    assert set(slack_posts) == {r.channel_id for r in world.slack_refs}
    assert not problems, f"{len(problems)} channels not delivered exactly once:\n" + "\n".join(problems[:20])


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_fanout_to_200_channels_under_chaos_posts_each_digest_exactly_once(world: World, seed: int) -> None:
    slack_chaos = Chaos(seed, rate_limited=0.08, server_error=0.06, timeout=0.05, drop=0.04, hang=1.3)
    discord_chaos = Chaos(seed + 100, rate_limited=0.08, server_error=0.06, timeout=0.05, drop=0.04, hang=1.3)
    world.slack_fake.chaos = slack_chaos
    world.discord_fake.chaos = discord_chaos

    await deliver_until_done(world)

    # The chaos really happened, including faults where the post landed and the answer was lost.
    for chaos in (slack_chaos, discord_chaos):
        assert chaos.faults["429"] and chaos.faults["5xx"] and chaos.faults["drop-before"], chaos.faults
        assert chaos.faults["timeout-after"] + chaos.faults["drop-after"] > 0, chaos.faults
    await assert_exactly_once(world)


async def lose_every_answer_then_heal(world: World, platform: Platform) -> None:
    """Every post lands but every answer is lost; then the platform heals and the runs go on."""
    if platform is Platform.SLACK:
        world.slack_fake.chaos = Chaos(7, drop=1.0, after_share=1.0, methods=frozenset({"chat.postMessage"}))
        refs = world.slack_refs[:5]
        few = World(world.app, world.slack_fake, world.discord_fake, refs, [])
    else:
        world.discord_fake.chaos = Chaos(8, drop=1.0, after_share=1.0, methods=frozenset({"post"}))
        few = World(world.app, world.slack_fake, world.discord_fake, [], world.discord_refs[:5])
    first = await asyncio.wait_for(world.app.runner.run_many(few.refs), timeout=ROUND_TIMEOUT)
    assert all(r.outcome in (RunOutcome.FAILED, RunOutcome.RECOVERED, RunOutcome.SENT) for r in first), first
    world.slack_fake.chaos = None
    world.discord_fake.chaos = None
    await deliver_until_done(few)
    await assert_exactly_once(few)


async def test_discord_post_whose_answer_was_lost_is_not_posted_again(world: World) -> None:
    await lose_every_answer_then_heal(world, Platform.DISCORD)


async def test_slack_post_whose_answer_timed_out_is_found_by_its_marker(world: World) -> None:
    world.slack_fake.chaos = Chaos(9, timeout=1.0, after_share=1.0, hang=1.3, methods=frozenset({"chat.postMessage"}))
    few = World(world.app, world.slack_fake, world.discord_fake, world.slack_refs[:5], [])
    runs = await asyncio.wait_for(world.app.runner.run_many(few.refs), timeout=ROUND_TIMEOUT)
    # The retry after the timeout looked for the marker and recorded the post instead of posting again.
    assert {r.outcome for r in runs} == {RunOutcome.RECOVERED}, runs
    world.slack_fake.chaos = None
    await assert_exactly_once(few)


async def test_slack_post_whose_connection_dropped_after_posting_is_not_posted_again(world: World) -> None:
    await lose_every_answer_then_heal(world, Platform.SLACK)

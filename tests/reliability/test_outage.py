"""A database outage across a digest's time: `paperboy run` stays up, says so, and posts the digest once after.

A PostgreSQL of the test's own (initdb, a free port) is stopped a few seconds before two channels' digest
time (one Slack channel, one Discord channel) and started again after it. Meanwhile the process must stay
alive (`/healthz` 200, `/readyz` 503), answer a Slack slash command within Slack's 3 s and a Discord
interaction with "can't reach its database", and log the outage once; when the database is back, each
digest that fell in the outage is posted, whole and once.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from adapters.discord import render as fd_render
from bot.clock import SystemClock
from bot.ingest import seed_sample_if_empty
from bot.outage import UNAVAILABLE_REPLY
from bot.types import ChannelRef, DeliveryKind, DeliveryState, Platform
from storage import Database
from tests.fakes import discord as fd
from tests.fakes.slack import FakeSlack, form, signed_headers, slash_body
from tests.reliability.private_postgres import PrivatePostgres, private_postgres
from tests.reliability.support import Bot, free_port, run_env, slack_whole_digests, wait_until

pytestmark = pytest.mark.postgres

SLACK_TOKEN = "xoxb-test"
SECRET = "outage-signing-secret"
SLACK = ChannelRef(Platform.SLACK, "T1", "C1")
DISCORD = ChannelRef(Platform.DISCORD, fd.GUILD_ID, "333")
OUTAGE_BEFORE = 12.0
"""Seconds before the digest time that the database goes away."""
OUTAGE_AFTER = 10.0
"""Seconds after the digest time that it comes back."""


def next_slot(now: datetime) -> datetime:
    """The next whole minute at least 30 s away (the bot needs a few seconds to start before the outage)."""
    slot = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return slot if (slot - now).total_seconds() >= 30 else slot + timedelta(minutes=1)


async def prepare(url: str, slot: datetime) -> None:
    db = await Database.connect(url)
    try:
        await db.upgrade()
        await seed_sample_if_empty(db, SystemClock())
        for ref in (SLACK, DISCORD):
            await db.channels.ensure(ref, digest_time=slot.time(), timezone="UTC", now=slot - timedelta(hours=1))
    finally:
        await db.close()


async def status_of(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as resp:
        return resp.status


async def slash(session: aiohttp.ClientSession, base: str, fake: FakeSlack, text: str) -> tuple[int, float]:
    body = form(slash_body(fake, text))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(SECRET, body)}
    started = time.monotonic()
    async with session.post(base + "/slack/events", data=body.encode(), headers=headers) as resp:
        fake.take_ack(body, await resp.read())
        return resp.status, time.monotonic() - started


async def until(moment: datetime) -> None:
    wait = (moment - datetime.now(UTC)).total_seconds()
    if wait > 0:
        await asyncio.sleep(wait)


async def test_a_database_outage_across_the_digest_time(tmp_path: Path) -> None:
    slot = next_slot(datetime.now(UTC))
    with private_postgres() as pg:
        await prepare(pg.url, slot)
        await run_through_an_outage(pg, slot, tmp_path)


async def run_through_an_outage(pg: PrivatePostgres, slot: datetime, tmp_path: Path) -> None:
    slack = await FakeSlack().start()
    slack.add_workspace("T1", SLACK_TOKEN)
    discord = fd.FakeDiscord()
    await discord.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = run_env(
        PAPERBOY_DATA_DIR=str(tmp_path / "data"),
        PAPERBOY_DATABASE_URL=pg.url,
        PAPERBOY_OFFLINE="true",
        SLACK_BOT_TOKEN=SLACK_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        PAPERBOY_SLACK__API_URL=slack.api_url,
        DISCORD_TOKEN="fake-token-SECRET",
        PAPERBOY_DISCORD__API_BASE=discord.api_base,
        PAPERBOY_DISCORD__GATEWAY_URL=discord.gateway_url,
        PAPERBOY_HTTP__PORT=str(port),
        PAPERBOY_DELIVERY__LEASE_SECONDS="6",
    )
    bot = await Bot.start(env, tmp_path, tmp_path / "run.log")
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    try:
        ready: list[int] = []

        async def probe() -> None:
            try:
                ready.append(await status_of(session, base + "/readyz"))
            except aiohttp.ClientError:
                ready.append(0)

        for _ in range(200):  # bounded: about 20 s
            await probe()
            if ready[-1] == 200 or bot.process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        assert ready and ready[-1] == 200, f"not ready:\n{bot.tail()}"

        await until(slot - timedelta(seconds=OUTAGE_BEFORE))
        await pg.stop_async()
        outage_started = time.monotonic()

        # Alive, but not ready.
        assert await status_of(session, base + "/healthz") == 200
        for _ in range(50):
            await probe()
            if ready[-1] == 503:
                break
            await asyncio.sleep(0.1)
        assert ready[-1] == 503, f"/readyz still says ready during the outage:\n{bot.tail()}"

        # A slash command is acked inside Slack's 3 s and answered plainly.
        status, took = await slash(session, base, slack, "today 3")
        assert status == 200 and took < 3.0, (status, took)
        await wait_until(lambda: bool(slack.responses), 10, what="the slash command's answer")
        (_, answer), *_ = slack.responses
        assert answer["response_type"] == "ephemeral" and UNAVAILABLE_REPLY in str(answer), answer

        # A Discord interaction too.
        await discord.push_interaction(fd.slash("today", {"n": 3}))
        await discord.wait_for(lambda: any(p.via == "followup" for p in discord.posted), within=10)
        followup = next(p for p in discord.posted if p.via == "followup")
        assert UNAVAILABLE_REPLY in followup.content and followup.ephemeral, followup

        # The digest time passes in the outage: nothing is posted yet.
        await until(slot + timedelta(seconds=OUTAGE_AFTER))
        assert not [p for p in slack.posts if p.channel == SLACK.channel_id]
        assert not [p for p in discord.posted if p.via == "channel"]
        await pg.start_async()
        outage = time.monotonic() - outage_started
        back = time.monotonic()

        # Back: each digest that fell in the outage is posted, once.
        await wait_until(
            lambda: (
                any(p.channel == SLACK.channel_id for p in slack.posts)
                and any(p.via == "channel" and p.channel_id == DISCORD.channel_id for p in discord.posted)
            ),
            30,
            what="both digests after the outage",
        )
        caught_up = time.monotonic() - back
        for _ in range(100):
            await probe()
            if ready[-1] == 200:
                break
            await asyncio.sleep(0.1)
        assert ready[-1] == 200
        await asyncio.sleep(2)  # anything posted twice would have landed by now
        assert await bot.stop() == 0, bot.tail()
    finally:
        bot.kill()
        await session.close()
        await slack.stop()
        await discord.close()

    day = slot.date().isoformat()
    assert await slack_whole_digests(pg.url, slack, [SLACK], day) == []
    db = await Database.connect(pg.url)
    try:
        d = await db.deliveries.get_by_key(DISCORD, DeliveryKind.DIGEST, day)
        assert d is not None and d.state is DeliveryState.SENT
        tops = [p for p in discord.posted if p.via == "channel" and p.channel_id == DISCORD.channel_id]
        assert len(tops) == 1, "the Discord digest's channel message was posted once"
        in_thread = [p for p in discord.posted if p.via == "channel" and p.channel_id == tops[0].id]
        positions = [next(iter(fd_render.marker_positions(p.body, d.id))) for p in [*tops, *in_thread]]
        assert sorted(positions) == list(range(1 + len(in_thread))), "each part once, in the digest's thread"
        assert sorted(await db.deliveries.parts(d.id)) == sorted(positions)
    finally:
        await db.close()
    log = bot.log.read_text()
    assert log.count("database unreachable") == 1, "the outage is said once, not once a second"
    assert log.count("database reachable again") == 1
    assert "Traceback" not in log, log[-3000:]
    print(f"\noutage of {outage:.0f} s across the digest time; both digests posted {caught_up:.1f} s after it ended")

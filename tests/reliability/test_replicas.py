"""Several `paperboy run` replicas on one Postgres (DESIGN §10): every digest exactly once.

Each test gets a fresh database (CREATE DATABASE, dropped afterwards), prepared in process with the
sample and 200 Slack channels whose digest time passed a few minutes ago, so every replica's catch-up at
start races for all of them. The delivery claim (INSERT ... ON CONFLICT DO NOTHING) must make the race
harmless; when a replica is SIGKILLed mid-run, the survivors take over its claims once its lease lapses
(liveness, not age), find the parts that landed by their markers and post only the missing ones.

The ingest advisory lock (one replica at a time) is covered by
tests/storage/test_database.py::test_advisory_lock_elects_one_holder on both backends; offline replicas
have no ingest job, so it is not repeated here.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.types import ChannelRef, DeliveryKind, DeliveryState
from storage import Database
from tests.fakes.slack import FakeSlack
from tests.reliability.support import (
    Bot,
    free_port,
    prepare_due_channels,
    run_env,
    slack_channel_posts,
    slack_last_post_at,
    slack_markers,
    slack_whole_digests,
    wait_all_sent,
    wait_until,
)

pytestmark = pytest.mark.postgres

POSTGRES_ENV = "PAPERBOY_TEST_POSTGRES_URL"
CHANNELS = 200
SLACK_TOKEN = "xoxb-test"
WITHIN = 90.0


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A fresh, empty database on the test server (asyncpg URL), dropped afterwards."""
    async with fresh_database() as url:
        yield url


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: the replica tests need a real PostgreSQL")
    name = f"paperboy_replicas_{uuid.uuid4().hex[:10]}"
    plain = make_url(base).set(drivername="postgresql")
    admin = await asyncpg.connect(plain.render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield plain.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def replica_env(url: str, tmp_path: Path, fake: FakeSlack) -> dict[str, str]:
    return run_env(
        PAPERBOY_DATA_DIR=str(tmp_path / "data"),
        PAPERBOY_DATABASE_URL=url,
        PAPERBOY_OFFLINE="true",
        SLACK_BOT_TOKEN=SLACK_TOKEN,
        SLACK_SIGNING_SECRET="secret",
        PAPERBOY_SLACK__API_URL=fake.api_url,
        PAPERBOY_HTTP__PORT=str(free_port()),
        PAPERBOY_DELIVERY__LEASE_SECONDS="15",
    )


async def assert_exactly_once(url: str, fake: FakeSlack, refs: list[ChannelRef], day: str) -> None:
    posts = slack_channel_posts(fake)
    markers = slack_markers(fake)
    doubled = {c: n for c, n in posts.items() if n != 1}
    assert not doubled, f"channels that saw their digest more than once: {doubled}"
    assert set(posts) == {r.channel_id for r in refs}
    db = await Database.connect(url)
    try:
        for ref in refs:
            d = await db.deliveries.get_by_key(ref, DeliveryKind.DIGEST, day)
            assert d is not None and d.state is DeliveryState.SENT, (ref, d)
            assert markers[(ref.channel_id, d.id)] == 1, (ref, d)
    finally:
        await db.close()


async def test_three_replicas_racing_for_every_channel_post_each_digest_once(database_url: str, tmp_path: Path) -> None:
    refs, day = await prepare_due_channels(
        Settings(data_dir=tmp_path, database_url=database_url, offline=True), CHANNELS
    )
    fake = await FakeSlack().start()
    fake.add_workspace("T1", SLACK_TOKEN)
    bots: list[Bot] = []
    try:
        for i in range(3):
            bots.append(await Bot.start(replica_env(database_url, tmp_path, fake), tmp_path, tmp_path / f"r{i}.log"))
        expected = {r.channel_id for r in refs}
        try:
            await wait_until(lambda: expected <= set(slack_channel_posts(fake)), WITHIN, what="every channel posted")
            await wait_all_sent(database_url, refs, day, 30)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n" + "\n---\n".join(b.tail(15) for b in bots)) from None
        for b in bots:
            assert await b.stop() == 0, b.tail()
    finally:
        for b in bots:
            b.kill()
        await fake.stop()
    # Every replica did part of the work (the race was real), yet nothing was doubled.
    assert all("sent as" in b.log.read_text() for b in bots), "a replica posted nothing: no race happened"
    await assert_exactly_once(database_url, fake, refs, day)
    assert await slack_whole_digests(database_url, fake, refs, day) == []


TAKEOVER_WITHIN = 60.0


async def test_a_replica_killed_mid_run_has_its_work_finished_by_the_survivor(
    database_url: str, tmp_path: Path
) -> None:
    """Two replicas race; one is SIGKILLed mid fan-out and never restarted; the survivor finishes, whole, once.

    On a loaded machine the kill can land when the victim holds no claim (it started late and the
    survivor took every channel, or it had finished its share): nothing to take over, so that attempt
    tests nothing. Up to three attempts, each on a fresh database; every one must be exactly-once, and
    at least one must have been a real takeover.
    """
    rng = random.Random(21)
    takeovers = 0
    for attempt in range(3):
        if attempt == 0:
            took_over = await _kill_one_replica(database_url, tmp_path / "a0", rng)
        else:
            async with fresh_database() as url:
                took_over = await _kill_one_replica(url, tmp_path / f"a{attempt}", rng)
        takeovers += took_over
        if took_over:
            break
    assert takeovers, "in three attempts the survivor never took anything over: the kill always came too late"


async def _kill_one_replica(database_url: str, tmp_path: Path, rng: random.Random) -> bool:
    """One race with a SIGKILL; checks exactly-once and wholeness; whether the survivor took anything over."""
    await asyncio.to_thread(tmp_path.mkdir, parents=True)
    refs, day = await prepare_due_channels(
        Settings(data_dir=tmp_path, database_url=database_url, offline=True), CHANNELS
    )
    fake = await FakeSlack().start()
    fake.add_workspace("T1", SLACK_TOKEN)
    bots: list[Bot] = []
    try:
        victim = await Bot.start(replica_env(database_url, tmp_path, fake), tmp_path, tmp_path / "victim.log")
        survivor = await Bot.start(replica_env(database_url, tmp_path, fake), tmp_path, tmp_path / "survivor.log")
        bots += [victim, survivor]
        kill_after = rng.randint(40, 120)
        await wait_until(lambda: len(fake.posts) >= kill_after, WITHIN, what=f"{kill_after} posts", step=0.005)
        victim.kill()
        await victim.wait(10)
        died = time.monotonic()
        try:
            await wait_all_sent(database_url, refs, day, TAKEOVER_WITHIN)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n" + "\n---\n".join(b.tail(15) for b in bots)) from None
        finished = slack_last_post_at(fake) - died
        assert finished < TAKEOVER_WITHIN
        assert await survivor.stop() == 0, survivor.tail()
    finally:
        for b in bots:
            b.kill()
        await fake.stop()
    await assert_exactly_once(database_url, fake, refs, day)
    assert await slack_whole_digests(database_url, fake, refs, day) == []
    took_over = "taken over by" in survivor.log.read_text()
    print(f"\nreplica killed after {kill_after} posts; took over: {took_over}; last part {finished:.1f} s later")
    return took_over

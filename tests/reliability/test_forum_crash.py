"""`paperboy jobs run digests` SIGKILLed while it makes forum posts and announcement-channel digests, then
`jobs run recover`: every forum gets each paper's post exactly once, in the digest's order, and every
announcement-channel digest message is posted once and published (crossposted) once.

Real processes (the bot on the system clock) against FakeDiscord on a SQLite file. Recovery takes over
the dead process's claims (its lease ended: same host, process gone), lists each forum's posts for the
delivery's markers, and creates only the missing posts; in an announcement channel it finds the
message by its marker and publishes it if the kill came between the post and the publish. The fake's
records, not the database, are the judge.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.discord import render as discord_render
from adapters.discord.forum import post_name
from bot.clock import SystemClock
from bot.config import Settings
from bot.ingest import seed_sample_if_empty
from bot.types import ChannelRef, DeliveryKind, DeliveryState, Platform
from storage import Database
from tests.fakes.discord import GUILD_ID, FakeDiscord
from tests.reliability.support import Bot, free_port, run_env, wait_until

FORUMS = 4
NEWS = 2


def env(data_dir: Path, fake: FakeDiscord) -> dict[str, str]:
    return run_env(
        PAPERBOY_DATA_DIR=str(data_dir),
        PAPERBOY_OFFLINE="true",
        DISCORD_TOKEN="fake-token-SECRET",
        PAPERBOY_DISCORD__API_BASE=fake.api_base,
        PAPERBOY_DISCORD__GATEWAY_URL=fake.gateway_url,
        PAPERBOY_HTTP__PORT=str(free_port()),
        PAPERBOY_DELIVERY__LEASE_SECONDS="3",
    )


async def prepare(settings: Settings, refs: list[ChannelRef]) -> str:
    """Migrated, seeded, the channels' digest slot passed three minutes ago; the digest key."""
    now = datetime.now(UTC)
    slot = now - timedelta(minutes=3)
    db = await Database.connect(settings.resolved_database_url)
    try:
        await db.upgrade()
        await seed_sample_if_empty(db, SystemClock())
        due = slot.time().replace(second=0, microsecond=0)
        for ref in refs:
            await db.channels.ensure(ref, digest_time=due, timezone="UTC", now=now - timedelta(hours=1))
    finally:
        await db.close()
    return slot.date().isoformat()


def forum_posts(fake: FakeDiscord) -> int:
    return sum(len(fake.forum_threads(str(800_000 + i))) for i in range(FORUMS))


@pytest.mark.parametrize("seed", [31])
async def test_sigkill_while_posting_to_forums_then_each_paper_posted_once_in_order(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, offline=True)
    forums = [ChannelRef(Platform.DISCORD, GUILD_ID, str(800_000 + i)) for i in range(FORUMS)]
    news = [ChannelRef(Platform.DISCORD, GUILD_ID, str(810_000 + i)) for i in range(NEWS)]
    day = await prepare(settings, forums + news)
    fake = FakeDiscord(epoch=datetime.now(UTC) - timedelta(minutes=1))
    await fake.start()
    for i, ref in enumerate(forums):
        fake.add_forum(ref.channel_id, ["trending"], kind=15 if i % 2 else 16)
    for ref in news:
        fake.add_channel(ref.channel_id, 5)
    try:
        kill_after = rng.randint(3, FORUMS * 6)
        doomed = await Bot.start(env(data_dir, fake), tmp_path, tmp_path / "killed.log", "jobs", "run", "digests")
        await wait_until(
            lambda: forum_posts(fake) >= kill_after or doomed.process.returncode is not None,
            90,
            what=f"{kill_after} forum posts before the kill",
            step=0.005,
        )
        assert doomed.process.returncode is None, f"the digests job ended before the kill:\n{doomed.tail()}"
        doomed.kill()
        await doomed.wait(10)
        landed_before = forum_posts(fake)

        recover = await Bot.start(env(data_dir, fake), tmp_path, tmp_path / "recover.log", "jobs", "run", "recover")
        assert await recover.wait(120) == 0, f"jobs run recover failed:\n{recover.tail()}"
        rerun = await Bot.start(env(data_dir, fake), tmp_path, tmp_path / "rerun.log", "jobs", "run", "digests")
        assert await rerun.wait(120) == 0, f"jobs run digests failed:\n{rerun.tail()}"

        db = await Database.connect(settings.resolved_database_url)
        problems: list[str] = []
        expected = 0
        try:
            for ref in forums + news:
                d = await db.deliveries.get_by_key(ref, DeliveryKind.DIGEST, day)
                if d is None or d.state is not DeliveryState.SENT:
                    problems.append(f"{ref.channel_id}: {d.state if d else 'no claim'}")
                    continue
                shown = await db.papers.get_many(d.paper_ids)
                if ref in forums:
                    expected += len(d.paper_ids)
                    posts = fake.forum_threads(ref.channel_id)
                    names = [p["name"] for p in posts]
                    wanted = [post_name(shown[i].title) for i in d.paper_ids]
                    if names != wanted:
                        problems.append(f"{ref.channel_id}: posts {names} for papers {wanted}")
                    if len(posts) != len(d.paper_ids):
                        problems.append(f"{ref.channel_id}: {len(posts)} posts for {len(d.paper_ids)} papers")
                    markers = Counter(
                        pos for p in posts for pos in discord_render.marker_positions(fake.messages[p["id"]][0], d.id)
                    )
                    problems += [f"{ref.channel_id}: part {k} posted {n} times" for k, n in markers.items() if n != 1]
                else:
                    mine = [p for p in fake.posted if p.channel_id == ref.channel_id]
                    marked = [p for p in mine if discord_render.marker_positions(p.body, d.id) == {0}]
                    published = [m for c, m in fake.crossposted if c == ref.channel_id]
                    if len(marked) != 1:
                        problems.append(f"{ref.channel_id}: digest message posted {len(marked)} times")
                    elif published != [marked[0].id]:
                        problems.append(f"{ref.channel_id}: published {published}, not [{marked[0].id}]")
        finally:
            await db.close()
        assert kill_after <= landed_before < expected, "killed mid-work"
        assert not problems, "\n".join(problems[:20])
        assert not fake.rejected
    finally:
        await fake.close()

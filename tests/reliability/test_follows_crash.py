"""`paperboy jobs run digests` SIGKILLed while it sends 20 people their follows by Slack DM, then recovered:
every person gets their whole DM exactly once.

Real processes against FakeSlack on a SQLite file: 20 people of one workspace follow a broad topic (so each
DM is a message and a thread reply in the IM), their DM time passed three minutes ago. The job is killed
after a random number of posts reached Slack (between a message and its reply, between a post and its
record); `jobs run recover` takes over the dead process's claims, opens each IM again, finds what landed by
its marker and posts only the rest; `jobs run digests` again finds nothing left to do. The fake's log, not
the database, is the judge.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.channels import DM_SETTINGS
from bot.config import Settings
from bot.types import ChannelRef, DeliveryKind, DeliveryState, Platform
from storage import Database
from tests.fakes.slack import FakeSlack
from tests.reliability.support import Bot, prepare_due_channels, slack_expected_parts, slack_parts, wait_until
from tests.reliability.test_followups_crash import env, job

PEOPLE = 20
FOLLOW = "language OR model OR learning"


async def _people_due(settings: Settings) -> tuple[list[ChannelRef], str]:
    """PEOPLE DM channels whose time passed three minutes ago, each following FOLLOW since before the sample."""
    _, day = await prepare_due_channels(settings, 0)
    now = datetime.now(UTC)
    due = (now - timedelta(minutes=3)).time().replace(second=0, microsecond=0)
    before_sample = datetime(2025, 11, 1, tzinfo=UTC)
    refs = [ChannelRef.dm(Platform.SLACK, "T1", f"U{i:04d}") for i in range(PEOPLE)]
    db = await Database.connect(settings.resolved_database_url)
    try:
        for ref in refs:
            await db.channels.ensure(ref, digest_time=due, timezone="UTC", now=now - timedelta(hours=1))
            await db.channels.update(ref, settings=DM_SETTINGS)
            added = await db.subscriptions.add(ref, FOLLOW, created_by=ref.channel_id, now=before_sample, limit=25)
            assert added is not None
    finally:
        await db.close()
    return refs, day


@pytest.mark.parametrize("seed", [41, 42])
async def test_sigkill_while_sending_follow_dms_then_every_dm_whole_and_once(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, offline=True)
    refs, day = await _people_due(settings)
    fake = await FakeSlack().start()
    fake.add_workspace("T1", "xoxb-test")
    for ref in refs:
        fake.add_user(ref.dm_user or "")
    try:
        kill_after = rng.randint(1, PEOPLE * 2 - 2)
        doomed = await Bot.start(env(data_dir, fake), tmp_path, tmp_path / "killed.log", "jobs", "run", "digests")
        await wait_until(
            lambda: len(fake.posts) >= kill_after or doomed.process.returncode is not None,
            60,
            what=f"{kill_after} DM posts before the kill",
            step=0.005,
        )
        assert doomed.process.returncode is None, f"the digests job ended before the kill:\n{doomed.tail()}"
        doomed.kill()
        await doomed.wait(10)
        landed_before = len(fake.posts)

        await job(data_dir, fake, tmp_path, "recover")
        await job(data_dir, fake, tmp_path, "digests")

        parts = slack_parts(fake)
        problems: list[str] = []
        db = await Database.connect(settings.resolved_database_url)
        try:
            for ref in refs:
                d = await db.deliveries.get_by_key(ref, DeliveryKind.DIGEST, day)
                if d is None or d.state is not DeliveryState.SENT:
                    problems.append(f"{ref.channel_id}: {d.state if d else 'no claim'}")
                    continue
                im = fake.im_of(ref.dm_user or "")
                want = slack_expected_parts(len(d.paper_ids))
                got = parts.get((im or "", d.id), Counter())
                if im is None or got != Counter(range(want)):
                    problems.append(f"{ref.channel_id} in {im}: parts {dict(got)}, wanted each of 0..{want - 1} once")
        finally:
            await db.close()
        assert 1 <= landed_before < len(fake.posts)
        assert not problems, "\n".join(problems[:20])
        assert all(p.channel.startswith("D") for p in fake.posts), "every post went to a person's IM"
        assert len({p.channel for p in fake.posts}) == PEOPLE
        assert all(n == 2 for n in Counter(p.channel for p in fake.posts).values()), "a message and its reply each"
    finally:
        await fake.stop()

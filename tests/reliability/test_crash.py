"""A real `paperboy run` SIGKILLed in the middle of a 200-channel fan-out, restarted: every digest whole, once.

The process runs against FakeSlack (served by this test's event loop) on a SQLite file prepared here:
200 Slack channels whose digest time passed a few minutes ago, so the scheduler's catch-up at start fans
out to all of them. Each digest is two parts: the channel message ("top 5 here, 5 more in the thread")
and a thread reply. The test kills the process after a random number of posts reached the fake (so kills
land between a message and its reply, and between a post and its record), restarts it, and waits until
every channel has its whole digest. The restarted process ends its dead predecessor's lease at once and
its first recovery pass finds what landed by marker (conversations.history and .replies), then posts only
the missing parts. The fake's log, not the database, is the judge.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from bot.config import Settings
from bot.types import DeliveryKind, DeliveryState
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

CHANNELS = 200
SLACK_TOKEN = "xoxb-test"
ALL_POSTED_WITHIN = 90.0


def settings_env(data_dir: Path, fake: FakeSlack) -> dict[str, str]:
    return run_env(
        PAPERBOY_DATA_DIR=str(data_dir),
        PAPERBOY_OFFLINE="true",
        SLACK_BOT_TOKEN=SLACK_TOKEN,
        SLACK_SIGNING_SECRET="secret",
        PAPERBOY_SLACK__API_URL=fake.api_url,
        PAPERBOY_HTTP__PORT=str(free_port()),
        PAPERBOY_DELIVERY__LEASE_SECONDS="3",
        PAPERBOY_DELIVERY__RECOVER_INTERVAL_SECONDS="1",
    )


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_sigkill_during_fanout_then_restart_delivers_every_digest_exactly_once(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    refs, day = await prepare_due_channels(Settings(data_dir=data_dir, offline=True), CHANNELS)
    fake = await FakeSlack().start()
    fake.add_workspace("T1", SLACK_TOKEN)
    bots: list[Bot] = []
    try:
        # One or two crashes, each after a random number of posts reached Slack.
        for crash in range(rng.randint(1, 2)):
            already = len(fake.posts)
            kill_after = already + rng.randint(1, max(1, (CHANNELS - already) * 2 // 3))
            bot = await Bot.start(settings_env(data_dir, fake), tmp_path, tmp_path / f"run-{crash}.log")
            bots.append(bot)
            await wait_until(
                lambda bot=bot, kill_after=kill_after: (
                    len(fake.posts) >= kill_after or bot.process.returncode is not None
                ),
                ALL_POSTED_WITHIN,
                what=f"{kill_after} posts before the kill",
                step=0.005,
            )
            assert bot.process.returncode is None, f"paperboy run exited early:\n{bot.tail()}"
            bot.kill()
            await bot.wait(10)

        half_done = len(fake.posts)
        restarted = time.monotonic()
        bot = await Bot.start(settings_env(data_dir, fake), tmp_path, tmp_path / "run-final.log")
        bots.append(bot)
        expected = {r.channel_id for r in refs}
        try:
            await wait_until(
                lambda: expected <= set(slack_channel_posts(fake)), ALL_POSTED_WITHIN, what="a post in every channel"
            )
            # The recovery pass resolves the killed runs' claims (TTL 2 s, every 1 s): wait until all are done.
            await wait_all_sent(f"sqlite+aiosqlite:///{data_dir / 'paperboy.db'}", refs, day, within=30)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last log lines:\n{bot.tail()}") from None
        assert await bot.stop() == 0, bot.tail()
    finally:
        for b in bots:
            b.kill()
        await fake.stop()

    posts = slack_channel_posts(fake)
    markers = slack_markers(fake)
    doubled = {c: n for c, n in posts.items() if n != 1}
    assert not doubled, f"channels that saw their digest more than once: {doubled}"
    assert set(posts) == expected
    url = f"sqlite+aiosqlite:///{data_dir / 'paperboy.db'}"
    assert await slack_whole_digests(url, fake, refs, day) == []
    print(
        f"\nseed {seed}: {half_done} posts before the last kill; restart to last part "
        f"{slack_last_post_at(fake) - restarted:.1f} s; {len(fake.posts)} posts in all, every channel whole and once"
    )

    db = await Database.connect(f"sqlite+aiosqlite:///{data_dir / 'paperboy.db'}")
    try:
        for ref in refs:
            d = await db.deliveries.get_by_key(ref, DeliveryKind.DIGEST, day)
            # The digest users saw is the one recorded, and the record is finished.
            assert d is not None and d.state is DeliveryState.SENT, (ref, d)
            assert markers[(ref.channel_id, d.id)] == 1, (ref, d)
    finally:
        await db.close()

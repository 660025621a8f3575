"""`paperboy jobs run followups` SIGKILLed while it posts follow-ups to 20 Slack channels, then run again:
every follow-up lands exactly once, in the thread of the digest that carried its paper.

Real processes against FakeSlack on a SQLite file: `jobs run digests` posts the channels' digests, five
of their papers then gain a model (stored as an ingest stores it), and `jobs run followups` is killed after
a random number of follow-ups reached Slack. `jobs run recover` takes over the dead process's claims
(its lease is ended at once: same host, process gone), finds what landed by its marker in the paper's
thread (conversations.replies) and posts only what is missing; `jobs run followups` posts the rest. The
fake's log, not the database, is the judge.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.types import DeliveryKind, DeliveryState
from storage import Database
from tests.fakes.slack import FakeSlack
from tests.reliability.support import Bot, free_port, prepare_due_channels, run_env, wait_until

CHANNELS = 20
GAINING = 5
SLACK_TOKEN = "xoxb-test"


def env(data_dir: Path, fake: FakeSlack) -> dict[str, str]:
    return run_env(
        PAPERBOY_DATA_DIR=str(data_dir),
        PAPERBOY_OFFLINE="true",
        SLACK_BOT_TOKEN=SLACK_TOKEN,
        SLACK_SIGNING_SECRET="secret",
        PAPERBOY_SLACK__API_URL=fake.api_url,
        PAPERBOY_HTTP__PORT=str(free_port()),
        PAPERBOY_DELIVERY__LEASE_SECONDS="3",
    )


async def job(data_dir: Path, fake: FakeSlack, tmp_path: Path, name: str, within: float = 90.0) -> Bot:
    bot = await Bot.start(env(data_dir, fake), tmp_path, tmp_path / f"{name}.log", "jobs", "run", name)
    code = await bot.wait(within)
    assert code == 0, f"jobs run {name} failed:\n{bot.tail()}"
    return bot


def followup_posts(fake: FakeSlack, ids: set[str]) -> list[tuple[str, str | None]]:
    """(delivery id, thread_ts) of every post carrying one of the follow-up deliveries' markers."""
    found = []
    for post in fake.posts:
        payload = (post.metadata or {}).get("event_payload") or {}
        if payload.get("delivery_id") in ids:
            found.append((str(payload["delivery_id"]), post.thread_ts))
    return found


@pytest.mark.parametrize("seed", [21, 22])
async def test_sigkill_while_posting_followups_then_every_followup_once(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, offline=True)
    refs, day = await prepare_due_channels(settings, CHANNELS)
    fake = await FakeSlack().start()
    fake.add_workspace("T1", SLACK_TOKEN)
    try:
        await job(data_dir, fake, tmp_path, "digests")
        db = await Database.connect(settings.resolved_database_url)
        try:
            digests = {ref: await db.deliveries.get_by_key(ref, DeliveryKind.DIGEST, day) for ref in refs}
            assert all(d is not None and d.state is DeliveryState.SENT for d in digests.values())
            first = digests[refs[0]]
            assert first is not None
            shown = await db.papers.get_many(first.paper_ids)
            gaining = [shown[i] for i in first.paper_ids][:GAINING]
            assert len(gaining) == GAINING and not any(p.models for p in gaining)
            released = [replace(p, models=(f"org/{p.id}-7b",), models_total=2) for p in gaining]
            await db.papers.upsert(released, seen_at=datetime.now(UTC))
        finally:
            await db.close()
        posts_before = len(fake.posts)
        kill_after = posts_before + rng.randint(1, CHANNELS * GAINING * 2 // 3)
        doomed = await Bot.start(env(data_dir, fake), tmp_path, tmp_path / "killed.log", "jobs", "run", "followups")
        await wait_until(
            lambda: len(fake.posts) >= kill_after or doomed.process.returncode is not None,
            60,
            what=f"{kill_after - posts_before} follow-ups before the kill",
            step=0.005,
        )
        assert doomed.process.returncode is None, f"the follow-ups job ended before the kill:\n{doomed.tail()}"
        doomed.kill()
        await doomed.wait(10)
        landed_before = len(fake.posts) - posts_before

        await job(data_dir, fake, tmp_path, "recover")
        await job(data_dir, fake, tmp_path, "followups")

        db = await Database.connect(settings.resolved_database_url)
        try:
            problems: list[str] = []
            ids: dict[str, str] = {}
            for ref in refs:
                digest = digests[ref]
                assert digest is not None
                for paper in gaining:
                    d = await db.deliveries.get_by_key(ref, DeliveryKind.FOLLOWUP, f"{paper.id}:model")
                    if d is None or d.state is not DeliveryState.SENT:
                        problems.append(f"{ref.channel_id} {paper.id}: {d.state if d else 'no claim'}")
                        continue
                    ids[d.id] = str(digest.message_id)
            posts = followup_posts(fake, set(ids))
            counts = Counter(delivery for delivery, _ in posts)
            problems += [f"{d}: posted {counts[d]} times" for d in ids if counts[d] != 1]
            problems += [f"{d}: in thread {ts}, not {ids[d]}" for d, ts in posts if ts != ids[d]]
        finally:
            await db.close()
        assert landed_before >= 1
        assert not problems, "\n".join(problems[:20])
        assert len(posts) == CHANNELS * GAINING
    finally:
        await fake.stop()

"""`paperboy jobs run reminders` SIGKILLed while it posts journal-club reminders to 20 Slack channels, then
run again: every reminder lands exactly once.

Real processes against FakeSlack on a SQLite file: each channel plans three talks for tomorrow, the
reminders job is killed after a random number of reminders reached Slack, `jobs run recover` takes over
the dead process's claims (finding what landed by its marker) and `jobs run reminders` posts the rest.
The fake's log, not the database, is the judge.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.types import DeliveryKind, DeliveryState
from storage import Database
from tests.fakes.slack import FakeSlack
from tests.reliability.support import Bot, prepare_due_channels, wait_until
from tests.reliability.test_followups_crash import env, job

CHANNELS = 20
TALKS = 3


@pytest.mark.parametrize("seed", [31, 32])
async def test_sigkill_while_posting_reminders_then_every_reminder_once(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, offline=True)
    refs, _ = await prepare_due_channels(settings, CHANNELS)
    now = datetime.now(UTC)
    tomorrow = now.date() + timedelta(days=1)
    db = await Database.connect(settings.resolved_database_url)
    try:
        papers = [p.id for p in await db.papers.recent(TALKS)]
        for ref in refs:
            for i, paper in enumerate(papers):
                await db.library.present(ref, paper, who=f"U{i}", day=tomorrow, at=now)
    finally:
        await db.close()
    fake = await FakeSlack().start()
    fake.add_workspace("T1", "xoxb-test")
    try:
        kill_after = rng.randint(1, CHANNELS * TALKS * 2 // 3)
        doomed = await Bot.start(env(data_dir, fake), tmp_path, tmp_path / "killed.log", "jobs", "run", "reminders")
        await wait_until(
            lambda: len(fake.posts) >= kill_after or doomed.process.returncode is not None,
            60,
            what=f"{kill_after} reminders before the kill",
            step=0.005,
        )
        assert doomed.process.returncode is None, f"the reminders job ended before the kill:\n{doomed.tail()}"
        doomed.kill()
        await doomed.wait(10)
        landed_before = len(fake.posts)

        await job(data_dir, fake, tmp_path, "recover")
        await job(data_dir, fake, tmp_path, "reminders")

        db = await Database.connect(settings.resolved_database_url)
        try:
            problems: list[str] = []
            ids: set[str] = set()
            for ref in refs:
                for paper in papers:
                    d = await db.deliveries.get_by_key(ref, DeliveryKind.REMINDER, f"{paper}:{tomorrow.isoformat()}")
                    if d is None or d.state is not DeliveryState.SENT:
                        problems.append(f"{ref.channel_id} {paper}: {d.state if d else 'no claim'}")
                        continue
                    ids.add(d.id)
        finally:
            await db.close()
        marked = [
            str(((p.metadata or {}).get("event_payload") or {}).get("delivery_id"))
            for p in fake.posts
            if ((p.metadata or {}).get("event_payload") or {}).get("delivery_id") in ids
        ]
        counts = Counter(marked)
        problems += [f"{d}: posted {counts[d]} times" for d in ids if counts[d] != 1]
        assert landed_before >= 1
        assert not problems, "\n".join(problems[:20])
        assert len(marked) == len(fake.posts) == CHANNELS * TALKS
        assert all("Journal club tomorrow" in p.text for p in fake.posts)
    finally:
        await fake.stop()

"""The scheduler rebuilt from the database: catch-up within grace, skip beyond it, never twice."""

from __future__ import annotations

from datetime import timedelta

from bot.digest_run import RunOutcome
from bot.scheduler import Scheduler, job_id, weekly_job_id
from bot.types import DeliveryKind, DeliveryState, Digest
from tests.e2e.conftest import HERE, OTHER, Harness


def scheduler(h: Harness) -> Scheduler:
    return Scheduler(h.app.db.channels, h.app.db.deliveries, h.app.runner, h.clock, grace=timedelta(hours=6))


async def prepare(h: Harness) -> None:
    # Channels created the day before, digest at 09:00 UTC; the harness clock is 08:00 the next day.
    await h.app.channels.ensure(HERE)
    await h.app.channels.ensure(OTHER)
    h.clock.advance(timedelta(days=1))


async def test_missed_digest_within_grace_is_caught_up_once(harness: Harness) -> None:
    h = harness
    h.clock.advance(timedelta(days=-1))
    await prepare(h)
    h.clock.advance(timedelta(hours=3))  # 11:00: the 09:00 slot passed two hours ago
    runs = await scheduler(h).catch_up()
    assert sorted(r.outcome for r in runs) == [RunOutcome.SENT, RunOutcome.SENT]
    assert await scheduler(h).catch_up() == []  # a restart does not post again
    assert len([m for m in h.chat.in_channel(HERE) if isinstance(m, Digest)]) == 1


async def test_missed_digest_beyond_grace_is_skipped_with_a_reason(harness: Harness) -> None:
    h = harness
    h.clock.advance(timedelta(days=-1))
    await prepare(h)
    h.clock.advance(timedelta(hours=8))  # 16:00: seven hours late, grace is six
    runs = await scheduler(h).catch_up()
    assert {r.outcome for r in runs} == {RunOutcome.MISSED}
    assert h.chat.posted == []
    day = h.clock.now().date().isoformat()
    d = await h.app.db.deliveries.get_by_key(HERE, DeliveryKind.DIGEST, day)
    assert d is not None and d.state is DeliveryState.SKIPPED and d.error and "grace" in d.error


async def test_a_channel_created_after_the_slot_is_not_caught_up(harness: Harness) -> None:
    h = harness
    h.clock.advance(timedelta(hours=2))  # 10:00, channel created after today's 09:00
    await h.app.channels.ensure(HERE)
    assert await scheduler(h).catch_up() == []


async def test_schedule_changes_take_effect_without_restart(harness: Harness) -> None:
    h = harness
    s = h.app.scheduler  # the one the application gave the commands
    await h.app.channels.ensure(HERE)
    await s.start()
    try:
        assert job_id(HERE) in s.jobs()
        before = s.next_run(HERE)
        await h.one("digest at 17:45 Asia/Tokyo")
        after = s.next_run(HERE)
        assert before is not None and after is not None and after != before
        assert after.astimezone(after.tzinfo).strftime("%H:%M") == "17:45"
        await h.one("digest off")
        assert job_id(HERE) not in s.jobs()
        await h.one("digest on")
        assert job_id(HERE) in s.jobs()
    finally:
        s.shutdown()


async def test_weekly_rollups_and_periodic_jobs_are_scheduled(harness: Harness) -> None:
    h = harness
    s = h.app.scheduler
    await h.app.channels.ensure(HERE)
    await s.start()
    try:
        assert weekly_job_id(HERE) not in s.jobs()
        await h.one("digest at 07:30 Europe/Paris")
        await h.one("settings weekly on friday")
        job = s._scheduler.get_job(weekly_job_id(HERE))
        assert job is not None
        fire = job.next_run_time
        assert (fire.strftime("%A %H:%M"), str(fire.tzinfo)) == ("Friday 07:30", "Europe/Paris")
        await h.one("digest off")  # the rollup does not depend on the daily digest
        assert weekly_job_id(HERE) in s.jobs() and job_id(HERE) not in s.jobs()
        await h.one("settings weekly off")
        assert weekly_job_id(HERE) not in s.jobs()
        periodic = {j.id for j in s._scheduler.get_jobs() if j.id.startswith("job:")}
        # The harness is offline: no ingest or poll timer; follow-ups, reminders and recovery run on theirs.
        assert periodic == {"job:followups", "job:reminders", "job:recover"}
    finally:
        s.shutdown()

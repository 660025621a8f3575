"""The schedule (DESIGN §7): APScheduler 3.x, rebuilt from the database, with an owned lifecycle.

The database is the source of truth; jobs live in memory and are rebuilt at start. One digest job per
channel fires at its local time in its IANA timezone (APScheduler's cron trigger is DST-correct: a
time skipped by spring-forward fires at the next valid instant; a repeated time fires once), and one
weekly-rollup job on its weekly day at the same time. A digest missed while the bot was down is caught
up at start within the grace period, and recorded as skipped beyond it; a rollup is caught up the same
day. The periodic jobs (`bot.jobs`: ingest, arXiv, follow-ups, the Hub poll, recovery) fire at their
intervals. A job only claims and posts, so a double fire is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_SUBMITTED, JobExecutionEvent, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock
from bot.digest_run import DigestRun, DigestRunner, RunOutcome
from bot.errors import StoreUnavailable
from bot.jobs import Job
from bot.metrics import SCHEDULER_LAG
from bot.outage import StoreHealth
from bot.ports import ChannelStore, DeliveryStore
from bot.types import WEEKDAYS, Channel, ChannelRef, DeliveryKind
from bot.weekly import WeeklyRollups

logger = logging.getLogger(__name__)


def digest_trigger(channel: Channel) -> CronTrigger:
    return CronTrigger(
        hour=channel.digest_time.hour, minute=channel.digest_time.minute, timezone=ZoneInfo(channel.timezone)
    )


def is_scheduled(channel: Channel) -> bool:
    return channel.digest_enabled and channel.paused_reason is None


def next_digest_at(channel: Channel, now: datetime) -> datetime | None:
    """When the channel's next digest fires after `now`, or None when it is off or paused."""
    if not is_scheduled(channel):
        return None
    # Strictly after `now`: at 09:00:00 the 09:00 digest is the current one, not the next.
    fire: datetime | None = digest_trigger(channel).get_next_fire_time(None, now + timedelta(seconds=1))
    return fire


def last_digest_slot(channel: Channel, now: datetime) -> datetime | None:
    """The latest scheduled fire time at or before `now` (within the last two days)."""
    trigger = digest_trigger(channel)
    slot: datetime | None = None
    fire: datetime | None = trigger.get_next_fire_time(None, now - timedelta(days=2))
    for _ in range(4):  # at most three daily slots fit in two days
        if fire is None or fire > now:
            break
        slot = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return slot


def weekly_trigger(channel: Channel) -> CronTrigger | None:
    """The channel's weekly rollup: its weekly day at its digest time, or None when it is off."""
    if channel.settings.weekly_day is None:
        return None
    return CronTrigger(
        day_of_week=WEEKDAYS[channel.settings.weekly_day][:3],
        hour=channel.digest_time.hour,
        minute=channel.digest_time.minute,
        timezone=ZoneInfo(channel.timezone),
    )


def job_id(ref: ChannelRef) -> str:
    return f"digest:{ref.key}"


def weekly_job_id(ref: ChannelRef) -> str:
    return f"weekly:{ref.key}"


class Scheduler:
    def __init__(
        self,
        channels: ChannelStore,
        deliveries: DeliveryStore,
        runner: DigestRunner,
        clock: Clock,
        *,
        grace: timedelta = timedelta(hours=6),
        periodic: Sequence[Job] = (),
        weekly: WeeklyRollups | None = None,
        health: StoreHealth | None = None,
    ) -> None:
        self._channels = channels
        self._deliveries = deliveries
        self._runner = runner
        self._clock = clock
        self._grace = grace
        self._periodic = {job.name: job for job in periodic if job.every is not None}
        self._weekly = weekly
        self._health = health or StoreHealth(clock)
        self._scheduler = AsyncIOScheduler(
            timezone=ZoneInfo("UTC"),
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": int(grace.total_seconds())},
        )
        self._scheduler.add_listener(self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_ERROR)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    async def start(self) -> list[DigestRun]:
        """Rebuild every job from the database, start firing, and catch up what was missed."""
        channels = await self._channels.all()
        for channel in channels:
            self.channel_changed(channel)
        for job in self._periodic.values():
            assert job.every is not None
            extra: dict[str, Any] = {"next_run_time": self._clock.now()} if job.at_start else {}
            self._scheduler.add_job(
                self._run_periodic,
                IntervalTrigger(seconds=max(1, int(job.every.total_seconds()))),
                args=[job.name],
                id=f"job:{job.name}",
                replace_existing=True,
                **extra,
            )
        self._scheduler.start()
        logger.info("scheduler started with %d channel jobs", len(self.jobs()))
        runs = await self.catch_up(channels)
        if self._weekly is not None:
            await self._weekly.catch_up()
        return runs

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def jobs(self) -> list[str]:
        """The per-channel jobs (digests and weekly rollups) by id."""
        return [j.id for j in self._scheduler.get_jobs() if not j.id.startswith("job:")]

    def next_run(self, ref: ChannelRef) -> datetime | None:
        job = self._scheduler.get_job(job_id(ref))
        return job.next_run_time if job else None

    def channel_changed(self, channel: Channel) -> None:
        """Apply a channel's new time, timezone, on/off or pause at once."""
        self._set_job(
            job_id(channel.ref), self._run_digest, digest_trigger(channel) if is_scheduled(channel) else None, channel
        )
        weekly = weekly_trigger(channel) if self._weekly is not None and channel.paused_reason is None else None
        self._set_job(weekly_job_id(channel.ref), self._run_weekly, weekly, channel)

    def _set_job(
        self, jid: str, run: Callable[[str], Awaitable[None]], trigger: CronTrigger | None, channel: Channel
    ) -> None:
        if trigger is None:
            if self._scheduler.get_job(jid):
                self._scheduler.remove_job(jid)
            return
        self._scheduler.add_job(run, trigger, args=[channel.ref.key], id=jid, replace_existing=True)

    async def _run_digest(self, key: str) -> None:
        ref = ChannelRef.parse(key)
        # run_safely: a digest that fires while the database is away is caught up when it is back.
        run = await self._runner.run_safely(ref)
        logger.info("scheduled digest %s channel=%s day=%s papers=%d", run.outcome, key, run.day, run.papers)

    async def _run_weekly(self, key: str) -> None:
        assert self._weekly is not None
        try:
            await self._weekly.run(ChannelRef.parse(key))
        except StoreUnavailable as exc:
            self._health.unavailable(exc, f"posting the weekly rollup of {key}")
        except Exception:
            logger.exception("weekly rollup failed channel=%s", key)

    async def _run_periodic(self, name: str) -> None:
        job = self._periodic[name]
        try:
            report = await job.run()
        except StoreUnavailable as exc:
            self._health.unavailable(exc, f"running the {name} job")
            return
        except Exception:
            logger.exception("job %s failed", name)
            return
        logger.debug("job %s: %s", name, report)

    async def catch_up(self, channels: list[Channel] | None = None) -> list[DigestRun]:
        """Deliver digests whose slot passed while the bot was down: within grace, now; beyond it, never."""
        now = self._clock.now()
        runs: list[DigestRun] = []
        due: dict[ChannelRef, date] = {}
        for channel in channels if channels is not None else await self._channels.all():
            if not is_scheduled(channel):
                continue
            slot = last_digest_slot(channel, now)
            if slot is None or (channel.created_at is not None and channel.created_at > slot):
                continue
            day = slot.astimezone(ZoneInfo(channel.timezone)).date()
            if await self._deliveries.get_by_key(channel.ref, DeliveryKind.DIGEST, day.isoformat()) is not None:
                continue
            if now - slot <= self._grace:
                logger.info("catching up the digest of %s missed at %s channel=%s", day, slot, channel.ref.key)
                due[channel.ref] = day
                continue
            claim = await self._deliveries.claim(
                channel.ref, DeliveryKind.DIGEST, day.isoformat(), claimed_by="scheduler", now=now
            )
            if claim is not None:
                reason = f"missed: Paperboy was not running at {slot:%Y-%m-%d %H:%M} UTC and the grace period passed"
                await self._deliveries.mark_skipped(claim.id, reason=reason, now=now)
                logger.warning("digest of %s skipped channel=%s: %s", day, channel.ref.key, reason)
                runs.append(DigestRun(channel.ref, RunOutcome.MISSED, day, detail=reason))
        # Catching up after an outage can mean every channel at once: fan out concurrently.
        return runs + await self._runner.run_many(list(due), days=due)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, JobSubmissionEvent) and event.scheduled_run_times:
            lag = (self._clock.now() - max(event.scheduled_run_times)).total_seconds()
            SCHEDULER_LAG.observe(max(0.0, lag))
        elif isinstance(event, JobExecutionEvent) and event.exception is not None:
            logger.error("job %s failed: %r", event.job_id, event.exception)

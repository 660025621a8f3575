"""The application's scheduled jobs, by name (`bot.jobs`): what `paperboy jobs list` shows, what the
scheduler runs on its timers, and what `paperboy jobs run NAME --at ISO` runs once by hand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.digest import DigestBuilder
from bot.followups import POLL_PERIOD, FollowUps, PaperInfoPoll
from bot.ingest import Busy, describe_result
from bot.jobs import Job, every
from bot.journal_club import REMINDER_PERIOD, Reminders
from bot.recovery import Recovery
from bot.rising import describe_rising
from bot.weekly import WeeklyRollups

if TYPE_CHECKING:
    from paperboy.app import Paperboy


def scheduled_jobs(
    app: Paperboy,
    followups: FollowUps,
    poll: PaperInfoPoll | None,
    weekly: WeeklyRollups,
    recovery: Recovery,
    digests: DigestBuilder,
    reminders: Reminders,
) -> list[Job]:
    """The jobs, in the order `jobs list` shows them; `every` None is "not on a timer"."""
    s = app.settings
    online = app.hf is not None
    ingest_every = timedelta(minutes=s.ingest.interval_minutes)
    arxiv_on = s.arxiv.enabled and not s.offline
    arxiv_every = timedelta(minutes=s.arxiv.interval_minutes)
    followups_every = timedelta(minutes=s.followups.interval_minutes)
    recover_every = timedelta(seconds=s.delivery.recover_interval_seconds)
    poll_on = poll is not None and s.followups.poll

    async def run_ingest() -> str:
        return await app.ingest_recent()

    async def run_arxiv() -> str:
        if not arxiv_on:
            return "arXiv is not configured (arxiv.categories or arxiv.query), or Paperboy is offline"
        try:
            result = await app.ingest_arxiv()
        except Busy as exc:
            return f"skipped: {exc}"
        return "arXiv failed (see `status`)" if result is None else f"arXiv: {describe_result(result)}"

    async def run_digests() -> str:
        runs = await app.scheduler.catch_up()
        return _outcomes("digests", [r.outcome.value for r in runs])

    async def run_followups() -> str:
        return (await followups.run()).summary

    async def run_poll() -> str:
        if poll is None:
            return "offline: the Hub is not polled"
        return (await poll.run()).summary

    async def run_rising() -> str:
        return await describe_rising(digests, app.db.papers, app.clock.now())

    async def run_weekly() -> str:
        results = await weekly.catch_up()
        return _outcomes("weekly rollups", [r.outcome.value for r in results])

    async def run_reminders() -> str:
        results = await reminders.run()
        return _outcomes("journal club reminders", [r.outcome.value for r in results])

    async def run_recover() -> str:
        return (await recovery.run()).summary

    return [
        Job(
            "ingest",
            f"fetch today's Hugging Face Daily Papers and the {s.ingest.refetch_days} days before (upvotes, new code)",
            run_ingest,
            every=ingest_every if online else None,
            at_start=True,
            schedule=every(ingest_every) if online else "off (offline)",
        ),
        Job(
            "arxiv",
            "fetch the newest arXiv submissions of the configured categories",
            run_arxiv,
            every=arxiv_every if arxiv_on else None,
            at_start=True,
            schedule=every(arxiv_every) if arxiv_on else "off (no arxiv.categories or query)",
        ),
        Job(
            "digests",
            "post every digest whose time has come today and is not out yet (within the grace period)",
            run_digests,
            schedule="at each channel's digest time",
        ),
        Job(
            "followups",
            "reply in a paper's thread when its code, models, datasets or Spaces appeared since it was posted",
            run_followups,
            every=followups_every,
            schedule=every(followups_every),
        ),
        Job(
            "poll",
            "re-read the Hub's page of each paper posted in the follow-up window, within the call budget",
            run_poll,
            every=POLL_PERIOD if poll_on else None,
            schedule=every(POLL_PERIOD) if poll_on else "off (offline or followups.poll false)",
        ),
        Job(
            "rising",
            "show the papers climbing fast now (the next digests bring them under Rising)",
            run_rising,
            schedule="with each digest",
        ),
        Job(
            "weekly",
            "post every weekly rollup due today whose time has come and is not out yet",
            run_weekly,
            schedule="on each channel's weekly day, at its digest time",
        ),
        Job(
            "reminders",
            "remind each channel the day before a journal-club talk (who presents what), from its digest time",
            run_reminders,
            every=REMINDER_PERIOD,
            schedule=every(REMINDER_PERIOD),
        ),
        Job(
            "recover",
            "finish the deliveries a crash, a dead replica or a failure left unfinished",
            run_recover,
            every=recover_every,
            schedule=every(recover_every),
        ),
    ]


def _outcomes(what: str, outcomes: Sequence[str]) -> str:
    if not outcomes:
        return f"no {what} due"
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return f"{len(outcomes)} {what}: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))

"""A failing Hugging Face source never stops the bot (DESIGN §4), seen from the bot's side.

tests/contract/test_hf_source.py covers the source client (each fault becomes a SourceError with a clear
message, Retry-After handling, paging, partial days); tests/e2e/test_ingest.py covers `ingest_from`
recording health. Here the whole app runs its hourly job (`Paperboy.ingest_recent`) against the fake Hub:
after a fault the bot still answers `today` from what it stored, `status` shows the error, and the next
run records a success again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import HfSettings, Settings
from bot.types import ChannelRef, CommandInvocation, Message, PaperList, Permission, Platform, Status, UserRef
from paperboy.app import Paperboy
from tests.fakes.hf import FakeHub, serve_fake_hub

HERE = ChannelRef(Platform.CONSOLE, "W1", "C1")
TUESDAY_NIGHT = datetime(2025, 9, 30, 23, 0, tzinfo=UTC)  # a busy archive day; the job refetches 3 days back
SUNDAY = datetime(2025, 9, 28, 12, 0, tzinfo=UTC)
JOB_TIMEOUT = 30.0


@pytest.fixture
def hub() -> AsyncIterator[FakeHub]:
    with serve_fake_hub() as fake:
        yield fake


@pytest.fixture
async def app(tmp_path: Path, hub: FakeHub) -> AsyncIterator[Paperboy]:
    settings = Settings(data_dir=tmp_path, offline=False, hf=HfSettings(endpoint=hub.url, timeout=0.5))
    async with Paperboy(settings, clock=FixedClock(TUESDAY_NIGHT)) as paperboy:
        yield paperboy


async def ask(app: Paperboy, text: str) -> Message:
    invocation = CommandInvocation(
        channel=HERE,
        user=UserRef("U1"),
        text=text,
        permission=Permission(True, "everyone"),
        received_at=app.clock.now(),
    )
    replies = await app.engine.handle(invocation)
    assert len(replies) == 1, replies
    return replies[0]


async def hf_health(app: Paperboy) -> tuple[datetime | None, datetime | None, str | None]:
    status = await ask(app, "status")
    assert isinstance(status, Status), status
    hf = [s for s in status.sources if s.source == "hf"]
    assert hf, f"status shows no hf source: {status.sources}"
    return hf[0].last_success_at, hf[0].last_error_at, hf[0].last_error


def later(app: Paperboy, hours: int) -> datetime:
    assert isinstance(app.clock, FixedClock)
    app.clock.set(app.clock.now() + timedelta(hours=hours))
    return app.clock.now()


@pytest.mark.parametrize(
    ("fault", "shown"),
    [
        ({"malformed_json_next": 1}, "malformed JSON"),
        ({"slow_next": 1, "delay": 1.5}, "timed out"),  # beyond the 0.5 s client timeout
        ({"rate_limit_next": 2, "retry_after": "0"}, "429"),  # Retry-After honoured once, then it gives up
        ({"fail_next": 1}, "HTTP 500"),
    ],
    ids=["malformed-json", "timeout", "429-retry-after", "http-500"],
)
async def test_a_source_fault_keeps_the_bot_serving_shows_in_status_and_the_next_run_recovers(
    app: Paperboy, hub: FakeHub, fault: dict[str, object], shown: str
) -> None:
    await asyncio.wait_for(app.ingest_recent(), JOB_TIMEOUT)
    before = await ask(app, "today")
    assert isinstance(before, PaperList) and before.papers, before

    failed_at = later(app, 1)
    for knob, value in fault.items():
        setattr(hub, knob, value)
    await asyncio.wait_for(app.ingest_recent(), JOB_TIMEOUT)  # never raises

    during = await ask(app, "today")
    assert isinstance(during, PaperList) and during.papers, during
    # It is now Wednesday 1 Oct: the bot shows Tuesday's papers, stored by the healthy run.
    assert "30 Sep" in during.heading, during.heading
    ok_at, error_at, error = await hf_health(app)
    assert error_at == failed_at and error is not None and shown in error, (error_at, error)
    assert ok_at is not None and ok_at < failed_at

    recovered_at = later(app, 1)
    await asyncio.wait_for(app.ingest_recent(), JOB_TIMEOUT)
    ok_at, error_at, _ = await hf_health(app)
    assert ok_at == recovered_at and error_at is not None and ok_at > error_at


async def test_an_empty_weekend_day_is_a_success_and_today_explains_the_weekend(app: Paperboy, hub: FakeHub) -> None:
    assert isinstance(app.clock, FixedClock)
    app.clock.set(SUNDAY)
    await asyncio.wait_for(app.ingest_recent(), JOB_TIMEOUT)
    ok_at, error_at, _ = await hf_health(app)
    assert ok_at == SUNDAY and error_at is None
    # Sunday and Saturday were asked for (empty), and the job went on to Friday's papers.
    asked = [r.params.get("date") for r in hub.requests if r.path == "/api/daily_papers"]
    assert {"2025-09-28", "2025-09-27", "2025-09-26"} <= set(asked), asked
    today = await ask(app, "today")
    assert isinstance(today, PaperList) and today.papers, today
    assert today.note is not None and "weekend" in today.note, today.note


async def test_a_partial_day_stores_the_good_papers_and_counts_as_a_success(app: Paperboy, hub: FakeHub) -> None:
    hub.corrupt_index = 0  # one malformed record (no arXiv id) in every listing
    await asyncio.wait_for(app.ingest_recent(), JOB_TIMEOUT)
    ok_at, error_at, _ = await hf_health(app)
    assert ok_at == TUESDAY_NIGHT and error_at is None
    today = await ask(app, "today")
    assert isinstance(today, PaperList) and today.papers and today.more > 0, today


# ---- a stale feed, a partial day, an empty day: said as such in status, today and the digest -----------


async def with_history(app: Paperboy) -> None:
    """What earlier hourly runs stored: September's days before the ones the job fetches."""
    from bot.ingest import ingest_papers
    from bot.sources.files import iter_daily_papers_files
    from tests.shared_data import ARCHIVE

    before = [
        p for p in iter_daily_papers_files([ARCHIVE / "daily_papers_2025-09.json"]) if max(p.featured_days) < WEEKEND
    ]
    await ingest_papers(app.db.papers, before, now=app.clock.now())


WEEKEND = datetime(2025, 9, 27, tzinfo=UTC).date()


async def feed_note(app: Paperboy) -> str | None:
    status = await ask(app, "status")
    assert isinstance(status, Status), status
    (hf,) = [s for s in status.sources if s.source == "hf"]
    return hf.note


async def digest_note(app: Paperboy) -> str | None:
    preview = await ask(app, "digest preview")
    from bot.types import Digest

    assert isinstance(preview, Digest), preview
    return preview.note


async def test_a_stale_feed_is_said_to_be_stale(app: Paperboy, hub: FakeHub) -> None:
    await with_history(app)
    hub.stale_days = {"2025-09-30": "2025-09-29"}  # Tuesday's listing repeats Monday's batch
    await asyncio.wait_for(app.ingest_recent(), JOB_TIMEOUT)
    note = await feed_note(app)
    assert note is not None and "looks stale" in note and "Tue 30 Sep" in note, note
    today = await ask(app, "today")
    assert isinstance(today, PaperList) and today.note is not None and "looks stale" in today.note
    assert "29 Sep" in today.heading, "what is shown is Monday's, the newest real day"
    assert "looks stale" in (await digest_note(app) or "")
    # The next run finds the feed well again: the note goes.
    hub.stale_days = {}
    assert isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(minutes=30))
    await asyncio.wait_for(app.ingest_recent(), JOB_TIMEOUT)
    assert await feed_note(app) is None


async def test_a_partial_day_is_said_to_be_partial(app: Paperboy, hub: FakeHub) -> None:
    await with_history(app)
    hub.empty_days = {"2025-09-30"}
    hub.partial_days = {"2025-09-29": 2}
    await asyncio.wait_for(app.ingest_recent(), JOB_TIMEOUT)
    note = await feed_note(app)
    assert note is not None and "Mon 29 Sep look partial: 2 papers" in note, note
    today = await ask(app, "today")
    assert isinstance(today, PaperList) and today.note is not None and "partial" in today.note
    assert "partial" in (await digest_note(app) or "")


async def test_an_empty_weekday_and_an_unpublished_today_are_said_as_such(app: Paperboy, hub: FakeHub) -> None:
    await with_history(app)
    hub.empty_days = {"2025-09-30", "2025-09-29"}
    await asyncio.wait_for(app.ingest_recent(), JOB_TIMEOUT)
    note = await feed_note(app)
    assert note is not None and "No Daily Papers were published for Mon 29 Sep" in note, note
    hub.empty_days = {"2025-09-30"}  # Monday arrives; Tuesday's are not out yet
    assert isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(minutes=30))
    await asyncio.wait_for(app.ingest_recent(), JOB_TIMEOUT)
    assert await feed_note(app) == "Today's Daily Papers are not published yet; Paperboy fetches them every hour."
    today = await ask(app, "today")
    assert isinstance(today, PaperList) and today.note is not None and "not published yet" in today.note
    assert "not published" not in (await digest_note(app) or ""), "a digest of Monday says nothing of Tuesday"

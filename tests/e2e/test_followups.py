"""Papers that keep moving, end to end: the real engine and jobs, storage on SQLite, the bundled sample,
the real Hugging Face client against the loopback fake Hub (whose papers gain code, models and upvotes
on fixed-clock days), and the memory adapter as the channel.

Time moves by setting the clock and the fake's day; every job runs by hand through `Paperboy.jobs`, the
registry `paperboy jobs run` uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from adapters.text import render_text
from bot.config import HfSettings, Settings
from bot.errors import RetryableDeliveryError
from bot.query import match, parse
from bot.types import (
    ArtifactKind,
    ChannelRef,
    DeliveryKind,
    DeliveryState,
    Digest,
    DigestReason,
    FollowUp,
    Platform,
    Status,
    WeeklyRollup,
)
from tests.e2e.conftest import HERE, MORNING, OTHER, Harness, open_harness
from tests.fakes.hf import FakeHub, Release, linked, serve_fake_hub

THIRD = ChannelRef(Platform.CONSOLE, "W1", "C3")
DAY = MORNING.date()  # Sat 29 Nov 2025; the sample's last Daily Papers day is Fri 28 Nov (7 papers)
GAINS_CODE = "2511.21691"  # no repository when posted
GAINS_MODELS = "2511.21087"  # no repository, no models when posted
HAD_CODE = "2511.21541"  # posted with its repository already


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with serve_fake_hub() as fake:
        fake.today = DAY
        yield fake


@pytest.fixture
async def online(tmp_path: Path, seeded_db: Path, hub: FakeHub) -> AsyncIterator[Harness]:
    settings = Settings(data_dir=tmp_path, offline=False, hf=HfSettings(endpoint=hub.url, timeout=5))
    async with open_harness(tmp_path, seeded_db, settings) as h:
        yield h


def move_to(h: Harness, hub: FakeHub, day: date, hour: int = 9, minute: int = 5) -> None:
    h.clock.set(h.clock.now().replace(year=day.year, month=day.month, day=day.day, hour=hour, minute=minute))
    hub.today = day


async def job(h: Harness, name: str) -> str:
    return await h.app.jobs.get(name).run()


def followups(h: Harness, channel: ChannelRef) -> list[tuple[FollowUp, str | None]]:
    return [(p.message, p.parent) for p in h.chat.posted if p.channel == channel and isinstance(p.message, FollowUp)]


def digest_message_id(h: Harness, channel: ChannelRef) -> str:
    (first,) = [p for p in h.chat.posted if p.channel == channel and isinstance(p.message, Digest) and p.part == 0]
    return first.message_id


# ---- follow-ups ---------------------------------------------------------------------------------------


async def test_a_paper_that_gains_code_and_models_is_followed_up_once_in_its_thread(
    online: Harness, hub: FakeHub
) -> None:
    h = online
    await h.one("settings followups off", THIRD)
    for channel in (HERE, OTHER, THIRD):
        await h.one("digest now", channel)
    posted = {e.paper.id for p in h.chat.posted if isinstance(p.message, Digest) for e in p.message.entries}
    assert {GAINS_CODE, GAINS_MODELS, HAD_CODE} <= posted
    tomorrow = DAY + timedelta(days=1)
    hub.releases += [
        Release(GAINS_CODE, tomorrow, {"githubRepo": "https://github.com/org/canvas", "githubStars": 1234}),
        Release(GAINS_MODELS, tomorrow, linked("Models", "org/mira-7b", "org/mira-13b", total=4)),
        Release(HAD_CODE, tomorrow, {"githubStars": 9000}),  # stars move: no news
        Release(GAINS_MODELS, tomorrow + timedelta(days=1), linked("Datasets", "org/mira-data")),
    ]

    # Nothing has appeared yet: a poll and a pass post nothing.
    assert "7 paper-info calls" in await job(h, "poll")
    assert (await job(h, "followups")).startswith("0 follow-ups due")

    move_to(h, hub, tomorrow)
    assert await job(h, "poll") == "7 paper-info calls for 7 watched papers, 3 updated"
    assert await job(h, "followups") == "4 follow-ups due, 4 posted"
    for channel in (HERE, OTHER):
        got = followups(h, channel)
        parent = digest_message_id(h, channel)
        assert sorted((f.paper.id, f.kind, f.detail, f.more, under) for f, under in got) == [
            (GAINS_MODELS, ArtifactKind.MODEL, "org/mira-7b", 3, parent),
            (GAINS_CODE, ArtifactKind.CODE, "github.com/org/canvas", 0, parent),
        ]
    assert followups(h, THIRD) == []  # `settings followups off`
    shown = sorted(render_text(f) for f, _ in followups(h, HERE))
    assert shown[0].startswith("💻 Code released: github.com/org/canvas · ★ 1.2k")
    assert shown[1].startswith("🤗 Model: org/mira-7b · 3 more")

    # Once per channel, paper and kind: another pass, and another poll of the same news, post nothing.
    await job(h, "poll")
    assert await job(h, "followups") == "0 follow-ups due, 0 posted"

    move_to(h, hub, tomorrow + timedelta(days=1))
    await job(h, "poll")
    assert await job(h, "followups") == "2 follow-ups due, 2 posted"
    assert [(f.paper.id, f.kind, f.detail) for f, _ in followups(h, HERE)][-1] == (
        GAINS_MODELS,
        ArtifactKind.DATASET,
        "org/mira-data",
    )
    status = await h.one("status")
    assert isinstance(status, Status) and status.last_followup is not None
    assert status.last_followup.state is DeliveryState.SENT and status.last_followup.kind is DeliveryKind.FOLLOWUP
    assert "Follow-ups on · rising on · weekly rollup off" in render_text(status)


async def test_code_found_by_the_daily_feed_refetch_counts_too(online: Harness, hub: FakeHub) -> None:
    h = online
    await h.one("digest now")
    tomorrow = DAY + timedelta(days=1)
    hub.releases.append(Release(GAINS_CODE, tomorrow, {"githubRepo": "https://github.com/org/canvas"}))
    move_to(h, hub, tomorrow)
    assert "from Hugging Face" in await job(h, "ingest")  # the listing of the 28th now carries the repository
    assert await job(h, "followups") == "1 follow-ups due, 1 posted"
    assert [(f.paper.id, f.kind) for f, _ in followups(h, HERE)] == [(GAINS_CODE, ArtifactKind.CODE)]


async def test_papers_posted_before_the_window_are_not_followed_up(online: Harness, hub: FakeHub) -> None:
    h = online
    await h.one("digest now")
    later = DAY + timedelta(days=31)  # the window is 30 days
    hub.releases.append(Release(GAINS_CODE, later, {"githubRepo": "https://github.com/org/canvas"}))
    move_to(h, hub, later)
    assert await job(h, "poll") == "0 paper-info calls for 0 watched papers, 0 updated"
    await job(h, "ingest")
    assert await job(h, "followups") == "0 follow-ups due, 0 posted"


async def test_a_followup_that_failed_is_finished_by_recovery_once(online: Harness, hub: FakeHub) -> None:
    h = online
    await h.one("digest now")
    tomorrow = DAY + timedelta(days=1)
    hub.releases.append(Release(GAINS_CODE, tomorrow, {"githubRepo": "https://github.com/org/canvas"}))
    move_to(h, hub, tomorrow)
    await job(h, "poll")
    h.chat.fail_next(HERE, *[RetryableDeliveryError("Slack is having a bad day")] * 3)
    assert await job(h, "followups") == "1 follow-ups due, 0 posted"
    assert followups(h, HERE) == []
    # The hourly pass does not post it again behind recovery's back; recovery finishes it, once.
    assert await job(h, "followups") == "0 follow-ups due, 0 posted"
    assert await job(h, "recover") == "1 unfinished deliveries: 1 followup"
    assert await job(h, "recover") == "nothing unfinished"
    assert [(f.paper.id, under) for f, under in followups(h, HERE)] == [(GAINS_CODE, digest_message_id(h, HERE))]


# ---- rising -------------------------------------------------------------------------------------------


async def test_a_paper_that_climbs_fast_comes_back_once_under_rising(online: Harness, hub: FakeHub) -> None:
    h = online
    for channel in (HERE, OTHER, THIRD):
        await h.one("settings trending off", channel)
        await h.one("settings min-upvotes 20", channel)
    await h.one("subscribe image editing", HERE)
    await h.one("subscribe image editing", THIRD)
    await h.one("settings rising off", THIRD)
    await h.one("subscribe protein folding", OTHER)  # not its interest
    for channel in (HERE, OTHER, THIRD):
        await h.one("digest now", channel)
    first = [p.message for p in h.chat.posted if p.channel == HERE and isinstance(p.message, Digest)]
    assert GAINS_MODELS not in {e.paper.id for d in first for e in d.entries}, "10 upvotes: under min-upvotes"
    paper = await h.app.db.papers.get(GAINS_MODELS)
    assert paper is not None and match(parse("image editing"), paper), "it matched the topic all along"

    tomorrow = DAY + timedelta(days=1)
    hub.releases.append(Release(GAINS_MODELS, tomorrow, {"upvotes": 148}))
    move_to(h, hub, tomorrow, hour=8)
    await job(h, "ingest")  # the re-fetch samples the new upvotes
    assert GAINS_MODELS in await job(h, "rising")
    move_to(h, hub, tomorrow)
    assert (await job(h, "digests")).startswith("3 digests")
    digests = {
        p.channel: p.message
        for p in h.chat.posted
        if isinstance(p.message, Digest) and p.message.day == tomorrow and p.part == 0
    }
    rising = [e for e in digests[HERE].entries if e.reason is DigestReason.RISING]
    assert [(e.paper.id, e.trajectory) for e in rising] == [
        (GAINS_MODELS, rising[0].trajectory),
    ]
    trajectory = rising[0].trajectory
    assert trajectory is not None and (trajectory.from_upvotes, trajectory.to_upvotes) == (10, 148)
    assert trajectory.since == DAY
    text = render_text(digests[HERE])
    assert "-- Rising --" in text and "rising: ▲ 10 → 148 since Sat 29 Nov" in text
    for other in (OTHER, THIRD):  # not its topic; rising off
        assert other not in digests or not any(e.reason is DigestReason.RISING for e in digests[other].entries)

    # Once: the next digest does not bring it back.
    after = tomorrow + timedelta(days=1)
    move_to(h, hub, after)
    await job(h, "ingest")
    await job(h, "digests")
    later = [p.message for p in h.chat.posted if isinstance(p.message, Digest) and p.message.day == after]
    assert all(e.paper.id != GAINS_MODELS for d in later for e in d.entries)


# ---- weekly -------------------------------------------------------------------------------------------


async def test_the_weekly_rollup_counts_each_topic_and_goes_out_once(online: Harness, hub: FakeHub) -> None:
    h = online
    await h.one("subscribe agents")
    await h.one("subscribe diffusion")
    reply = await h.one("settings weekly on saturday")
    assert "weekly on saturday" in render_text(reply)
    await h.one("settings weekly on friday", OTHER)
    move_to(h, hub, DAY, hour=8)  # before the digest time: not yet
    assert await job(h, "weekly") == "no weekly rollups due"
    move_to(h, hub, DAY)
    assert await job(h, "weekly") == "1 weekly rollups: 1 sent"
    (rollup,) = [p.message for p in h.chat.posted if isinstance(p.message, WeeklyRollup)]
    assert rollup.channel == HERE and (rollup.start, rollup.end) == (date(2025, 11, 22), date(2025, 11, 28))
    week = [p for p in await h.app.db.papers.arrived_between(rollup.start, rollup.end) if not p.withdrawn]
    for topic in rollup.topics:
        matched = sorted((p for p in week if match(parse(topic.query), p)), key=lambda p: (-p.upvotes, p.id))
        assert topic.matched == len(matched) > 0
        assert [p.id for p in topic.top] == [p.id for p in matched[:3]]
    assert [t.query for t in rollup.topics] == ["agents", "diffusion"]
    assert "/papers top week" in render_text(rollup) or "`top week`" in render_text(rollup)

    assert await job(h, "weekly") == "no weekly rollups due", "once a week"
    status = await h.one("status")
    assert isinstance(status, Status) and status.last_weekly is not None and status.last_weekly.key == "2025-W48"
    assert "weekly rollup on Saturdays" in render_text(status)
    await h.one("settings weekly off")
    move_to(h, hub, DAY + timedelta(days=7))
    assert await job(h, "weekly") == "no weekly rollups due"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("settings weekly on someday", "Unknown day of the week `someday`"),
        ("settings weekly someday", "`weekly` takes `on` or `off` and a day"),
        ("settings weekly off monday", "takes no day"),
        ("settings followups maybe", "`followups` takes `on` or `off`"),
        ("settings max 5 monday", "only `weekly` takes a day"),
    ],
)
async def test_bad_settings_are_refused_and_change_nothing(harness: Harness, text: str, error: str) -> None:
    await harness.one("status")  # the channel exists, with its defaults
    before = await harness.app.db.channels.get(HERE)
    assert before is not None
    reply = await harness.one(text)
    assert error in render_text(reply)
    assert await harness.app.db.channels.get(HERE) == before

"""Papers that keep moving, without I/O: the rising rule, the follow-up message, the weekly slot, the
settings, and how Slack, Discord and the console show them (real archive papers; goldens; limits)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters import paper_view
from adapters.discord import render as discord
from adapters.slack import render as slack
from adapters.text import render_text
from bot.actions import paper_actions
from bot.commands import CommandError
from bot.features.admin import apply_setting, describe_settings
from bot.followups import follow_up
from bot.rising import FACTOR, MIN_UPVOTES, WITHIN_DAYS, rising_papers, trajectory
from bot.types import (
    ArtifactKind,
    Channel,
    ChannelRef,
    ChannelSettings,
    Digest,
    DigestEntry,
    DigestReason,
    FollowUp,
    FollowUpDue,
    Paper,
    Platform,
    TopicWeek,
    Trajectory,
    WeeklyRollup,
)
from bot.weekly import iso_week, weekly_slot
from tests.fakes.discord import limit_problems
from tests.fakes.slack import _block_problems
from tests.golden import assert_golden
from tests.shared_data import archive_papers

GOLDEN = Path(__file__).parent / "golden"
SLACK = ChannelRef(Platform.SLACK, "T1", "C1")
DISCORD = ChannelRef(Platform.DISCORD, "222", "333")
DAY = date(2025, 11, 25)
SEEN = datetime(2025, 11, 25, 10, 0, tzinfo=UTC)


def papers() -> list[Paper]:
    return archive_papers("daily_papers_2025-11.json", limit=40)


def featured(paper: Paper, day: date, upvotes: int) -> Paper:
    return replace(paper, featured_days=(day,), upvotes=upvotes, withdrawn=False)


# ---- the rising rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("was", "now", "arrived_days_ago", "rising"),
    [
        (12, 148, 1, True),  # the issue's example
        (10, 50, 0, True),  # exactly 5x and exactly 50
        (10, 49, 0, False),  # 5x but under 50
        (20, 99, 1, False),  # 50 or more, under 5x
        (0, 60, 2, True),  # first seen with none: 5x of at least one
        (12, 148, WITHIN_DAYS, False),  # featured too long ago
        (12, 148, -1, False),  # featured after the papers day
    ],
)
def test_the_rising_rule(was: int, now: int, arrived_days_ago: int, rising: bool) -> None:
    paper = featured(papers()[0], DAY - timedelta(days=arrived_days_ago), now)
    found = trajectory(paper, (SEEN, was), DAY)
    assert (found is not None) is rising
    if found is not None:
        assert found == Trajectory(was, now, SEEN.date())
    assert FACTOR == 5 and MIN_UPVOTES == 50 and WITHIN_DAYS == 3


def test_rising_needs_a_first_sample_and_skips_withdrawn_papers() -> None:
    a, b, c, d = (featured(p, DAY, 200) for p in papers()[:4])
    first = {a.id: (SEEN, 10), b.id: (SEEN, 41), d.id: (SEEN, 1)}
    found = rising_papers([a, b, c, replace(d, withdrawn=True)], first, DAY)
    # b climbed under 5x (41 -> 200), c was never sampled, d is withdrawn.
    assert [p.id for p, _ in found] == [a.id]


def test_rising_orders_by_how_fast_papers_climbed() -> None:
    a, b = (featured(p, DAY, 200) for p in papers()[:2])
    found = rising_papers([a, b], {a.id: (SEEN, 40), b.id: (SEEN, 10)}, DAY)
    assert [p.id for p, _ in found] == [b.id, a.id]


# ---- the follow-up message -----------------------------------------------------------------------------


def due(kind: ArtifactKind, paper: Paper) -> FollowUpDue:
    return FollowUpDue(SLACK, paper.id, kind, "1700000000.000100", SEEN)


def test_follow_up_names_what_appeared_and_how_many_more() -> None:
    paper = replace(
        papers()[0],
        github_repo="https://github.com/org/repo",
        github_stars=1234,
        models=("org/a", "org/b"),
        models_total=4,
        datasets=(),
        datasets_total=2,
    )
    code = follow_up(due(ArtifactKind.CODE, paper), paper)
    assert (code.detail, code.stars, code.more) == ("github.com/org/repo", 1234, 0)
    model = follow_up(due(ArtifactKind.MODEL, paper), paper)
    assert (model.detail, model.more) == ("org/a", 3)
    dataset = follow_up(due(ArtifactKind.DATASET, paper), paper)  # a total without names
    assert (dataset.detail, dataset.more) == ("", 2)
    assert paper_view.followup_parts(dataset) == ("📊", "Dataset", None, " · 2 more")


@pytest.mark.parametrize(("count", "shown"), [(0, "0"), (999, "999"), (1000, "1k"), (1234, "1.2k"), (15300, "15k")])
def test_short_counts(count: int, shown: str) -> None:
    assert paper_view.short_count(count) == shown


def test_a_repository_that_is_not_a_web_address_is_not_linked() -> None:
    paper = replace(papers()[0], github_repo="javascript:alert(1)")
    message = FollowUp(SLACK, paper, ArtifactKind.CODE, None, "javascript:alert(1)")
    assert paper_view.followup_parts(message)[2] is None
    assert "<javascript" not in json.dumps(slack.render(message)[0].blocks)


# ---- the weekly slot and the settings ------------------------------------------------------------------


def channel(weekly_day: int | None, tz: str = "Europe/Paris") -> Channel:
    return Channel(SLACK, time(9, 0), tz, settings=ChannelSettings(weekly_day=weekly_day))


def test_the_weekly_slot_is_the_weekly_day_at_the_digest_time_in_the_channels_timezone() -> None:
    saturday_0805_utc = datetime(2025, 11, 29, 8, 5, tzinfo=UTC)  # 09:05 in Paris
    assert weekly_slot(channel(5), saturday_0805_utc) is not None
    assert weekly_slot(channel(5), saturday_0805_utc - timedelta(minutes=10)) is None  # 08:55 in Paris
    assert weekly_slot(channel(4), saturday_0805_utc) is None  # Fridays
    assert weekly_slot(channel(None), saturday_0805_utc) is None
    assert iso_week(date(2025, 11, 29)) == "2025-W48" and iso_week(date(2026, 1, 1)) == "2026-W01"


@pytest.mark.parametrize(
    ("key", "value", "day", "expect"),
    [
        ("followups", "off", None, {"followups": False}),
        ("rising", "off", None, {"rising": False}),
        ("weekly", "on", None, {"weekly_day": 0}),
        ("weekly", "on", "friday", {"weekly_day": 4}),
        ("weekly", "thu", None, {"weekly_day": 3}),
        ("weekly", "off", None, {"weekly_day": None}),
    ],
)
def test_settings_that_follow_papers(key: str, value: str, day: str | None, expect: dict[str, Any]) -> None:
    start = ChannelSettings(weekly_day=2)
    changed = apply_setting(start, key, value, day)
    if expect == {"weekly_day": 0}:
        expect = {"weekly_day": 2}  # `weekly on` keeps the day it had
    assert changed == replace(start, **expect)


def test_weekly_on_without_a_day_is_monday_and_describe_names_it() -> None:
    assert apply_setting(ChannelSettings(), "weekly", "on").weekly_day == 0
    assert "weekly on monday" in describe_settings(ChannelSettings(weekly_day=0))
    with pytest.raises(CommandError, match="only `weekly` takes a day"):
        apply_setting(ChannelSettings(), "rising", "on", "monday")


# ---- rendering ------------------------------------------------------------------------------------------


def rising_digest(ref: ChannelRef) -> Digest:
    top, climber = papers()[:2]
    entries = (
        DigestEntry(top, DigestReason.TRENDING, (), paper_actions(top)),
        DigestEntry(climber, DigestReason.RISING, ("agents",), paper_actions(climber), Trajectory(12, 148, DAY)),
    )
    return Digest(ref, DAY + timedelta(days=2), entries, DAY + timedelta(days=1), delivery_id="d-rising")


def followups(ref: ChannelRef) -> list[FollowUp]:
    paper = replace(papers()[2], github_repo="https://github.com/org/repo", github_stars=1234)
    hostile = replace(paper, title="@everyone <!channel> <@U123> look")
    return [
        FollowUp(ref, paper, ArtifactKind.CODE, "1700000000.000100", "github.com/org/repo", stars=1234),
        FollowUp(ref, paper, ArtifactKind.MODEL, "1700000000.000100", "org/model-7b", more=3),
        FollowUp(ref, paper, ArtifactKind.SPACE, "1700000000.000100", "org/demo"),
        FollowUp(ref, hostile, ArtifactKind.DATASET, None, "org/<!here>", more=1),
    ]


def weekly(ref: ChannelRef) -> WeeklyRollup:
    ps = papers()
    topics = (TopicWeek("agents", 14, tuple(ps[3:6])), TopicWeek("diffusion -survey", 1, (ps[6],)))
    reading = ((ps[7], "presented by Ada on Tue 25"), (ps[8], "read by <!here> Bob · read by @everyone"))
    return WeeklyRollup(
        ref, "2025-W48", date(2025, 11, 22), date(2025, 11, 28), topics, delivery_id="d-week", reading=reading
    )


def test_slack_shows_what_keeps_moving_within_limits() -> None:
    messages: dict[str, Any] = {"digest_rising": rising_digest(SLACK), "weekly": weekly(SLACK)}
    messages |= {f"followup_{m.kind.value}": m for m in followups(SLACK)}
    for name, message in messages.items():
        posts = slack.render(message)
        for post in posts:
            assert not _block_problems(post.blocks), name
            assert post.text.strip()
        actual = [{"text": p.text, "blocks": p.blocks, "thread_ts": p.thread_ts, "metadata": p.metadata} for p in posts]
        assert_golden(GOLDEN / "slack" / f"{name}.json", actual)
    text = json.dumps(slack.render(rising_digest(SLACK))[0].blocks, ensure_ascii=False)
    assert "1 trending, 1 rising" in text and "📈" in text and "rising: ▲ 12 → 148 since Tue 25 Nov" in text
    week = json.dumps(slack.render(weekly(SLACK))[0].blocks, ensure_ascii=False)
    assert "Read and presented here this week" in week and "presented by Ada" in week and "<!here>" not in week
    hostile = json.dumps(slack.render(followups(SLACK)[3])[0].blocks)
    assert "<!channel>" not in hostile and "<!here>" not in hostile and "<@U123>" not in hostile


def test_discord_shows_what_keeps_moving_within_limits() -> None:
    messages: dict[str, Any] = {"digest_rising": rising_digest(DISCORD), "weekly": weekly(DISCORD)}
    messages |= {f"followup_{m.kind.value}": m for m in followups(DISCORD)}
    for name, message in messages.items():
        posts = discord.render(message)
        for post in posts:
            assert not limit_problems(post.payload()), name
        payload = [{**p.payload(), "thread": p.thread, "under": p.under} for p in posts]
        assert_golden(GOLDEN / "discord" / f"{name}.json", payload)
    (head,) = discord.render(rising_digest(DISCORD))
    assert "(1 trending, 1 rising)" in head.content
    rising_fields = [f for f in head.embeds[1]["fields"] if f["name"] == "📈 Rising"]
    assert [f["value"] for f in rising_fields] == ["▲ 12 → 148 since Tue 25 Nov"]
    hostile = discord.render(followups(DISCORD)[3])[0].content
    assert "@everyone" not in hostile.replace("@\u200beveryone", "")


def test_the_console_shows_what_keeps_moving() -> None:
    text = render_text(rising_digest(SLACK))
    assert "1 trending, 0 for your topics, 1 rising" in text and "-- Rising --" in text
    assert render_text(followups(SLACK)[0]).startswith("💻 Code released: github.com/org/repo · ★ 1.2k")
    rollup = render_text(weekly(SLACK))
    assert "-- agents: 14 papers this week --" in rollup and "-- diffusion -survey: 1 paper this week --" in rollup
    assert "-- Read and presented here this week --" in rollup and "presented by Ada on Tue 25" in rollup

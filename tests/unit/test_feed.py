"""Quiet or broken: the rules that tell a stale, partial or empty Daily Papers day, and arXiv's schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot import feed

TUE, WED, THU, FRI, SAT, SUN, MON = (
    date(2025, 9, 30),
    date(2025, 10, 1),
    date(2025, 10, 2),
    date(2025, 10, 3),
    date(2025, 10, 4),
    date(2025, 10, 5),
    date(2025, 10, 6),
)
A = frozenset({"2509.1", "2509.2", "2509.3"})
B = frozenset({"2510.1", "2510.2", "2510.3", "2510.4"})


def test_a_normal_day_needs_no_note() -> None:
    assert feed.daily_papers_note(THU, {THU: frozenset(), WED: B}, {WED: A}, typical=4) is not None  # today empty
    assert feed.daily_papers_note(THU, {THU: frozenset({"x"}), WED: B}, {THU: B, WED: A}, typical=4) is None
    assert feed.daily_papers_note(THU, {WED: B, TUE: A}, {WED: A}, typical=4) is None


def test_today_not_yet_published_is_said_as_such() -> None:
    assert feed.daily_papers_note(THU, {THU: frozenset(), WED: B}, {WED: A}, typical=4) == feed.NOT_YET_PUBLISHED
    assert feed.digest_note(feed.NOT_YET_PUBLISHED) is None, "a digest of yesterday does not need it"


def test_a_feed_that_repeats_the_day_before_is_stale() -> None:
    note = feed.daily_papers_note(THU, {THU: frozenset(), WED: A, TUE: A}, {WED: A, TUE: frozenset()}, typical=3)
    assert note is not None and "stale" in note and "Wed 1 Oct" in note
    assert feed.digest_note(note) == note


def test_a_finished_day_with_far_fewer_papers_than_usual_is_partial() -> None:
    note = feed.daily_papers_note(THU, {WED: frozenset({"only"})}, {WED: A}, typical=40)
    assert note is not None and "partial" in note and "1 papers, usually about 40" in note
    assert feed.daily_papers_note(THU, {WED: B}, {WED: A}, typical=40) is not None  # 4 of 40
    assert feed.daily_papers_note(THU, {WED: B}, {WED: A}, typical=8) is None  # 4 of 8 is a quiet day


def test_a_finished_weekday_without_papers_is_empty_and_weekends_are_normal() -> None:
    note = feed.daily_papers_note(THU, {WED: frozenset()}, {}, typical=40)
    assert note is not None and "No Daily Papers were published for Wed 1 Oct" in note
    assert feed.daily_papers_note(MON, {SUN: frozenset(), SAT: frozenset(), FRI: A}, {FRI: B}, typical=3) is None


def test_typical_count_is_the_median_of_recent_weekdays() -> None:
    counts = {TUE: 40, WED: 50, THU: 60, SAT: 2, FRI: 0}
    assert feed.typical_count(counts) == 50
    assert feed.typical_count({}) is None


def test_arxiv_announces_sunday_to_thursday_at_20_eastern() -> None:
    friday_noon = datetime(2025, 10, 3, 16, 0, tzinfo=UTC)  # 12:00 in New York
    nxt = feed.next_arxiv_announcement(friday_noon)
    assert (nxt.strftime("%a %H:%M"), nxt.date()) == ("Sun 20:00", SUN)
    monday_evening = datetime(2025, 10, 7, 1, 0, tzinfo=UTC)  # Mon 21:00 in New York: after Monday's
    assert feed.next_arxiv_announcement(monday_evening).strftime("%a %d %H:%M") == "Tue 07 20:00"


def test_arxiv_holidays_move_the_next_announcement_and_are_named() -> None:
    friday_noon = datetime(2025, 10, 3, 16, 0, tzinfo=UTC)
    note = feed.arxiv_quiet_note(friday_noon, holidays=[SUN])
    assert "Next: Mon 6 Oct 20:00 ET" in note and "no announcement on Sun 5 Oct" in note

"""What `today` says when the shown day is not yesterday: a weekend, or nothing newer stored."""

from __future__ import annotations

from datetime import date

from bot.features.papers import explain_gap

MONDAY = date(2025, 12, 1)


def test_yesterday_needs_no_explanation() -> None:
    assert explain_gap(date(2025, 11, 30), MONDAY) is None


def test_a_weekend_gap_says_weekend() -> None:
    friday = date(2025, 11, 28)
    said = explain_gap(friday, date(2025, 12, 1))  # Saturday and Sunday missing
    assert said is not None and "weekends" in said


def test_a_gap_with_a_weekday_says_nothing_newer_is_stored() -> None:
    thursday = date(2025, 11, 27)
    said = explain_gap(thursday, MONDAY)  # Friday missing too
    assert said is not None and "No newer Daily Papers" in said


def test_a_year_long_gap_says_nothing_newer_is_stored() -> None:
    said = explain_gap(date(2024, 11, 29), MONDAY)
    assert said is not None and "No newer Daily Papers" in said

"""Schedule math with a fixed clock: local times, DST changes, catch-up windows."""

from __future__ import annotations

from datetime import UTC, datetime, time

from bot.scheduler import last_digest_slot, next_digest_at
from bot.types import Channel, ChannelRef, Platform

REF = ChannelRef(Platform.SLACK, "T1", "C1")


def channel(at: time, tz: str, *, enabled: bool = True, paused: str | None = None) -> Channel:
    return Channel(REF, at, tz, digest_enabled=enabled, paused_reason=paused)


def test_next_digest_is_local_time() -> None:
    c = channel(time(9, 0), "Europe/Paris")
    now = datetime(2025, 11, 28, 7, 0, tzinfo=UTC)  # 08:00 in Paris (UTC+1)
    assert next_digest_at(c, now) == datetime(2025, 11, 28, 8, 0, tzinfo=UTC)


def test_spring_forward_keeps_local_time() -> None:
    # Europe/Paris moves to UTC+2 on 2025-03-30: 09:00 local is 08:00 UTC before and 07:00 UTC after.
    c = channel(time(9, 0), "Europe/Paris")
    before = next_digest_at(c, datetime(2025, 3, 29, 12, tzinfo=UTC))
    after = next_digest_at(c, datetime(2025, 3, 30, 0, tzinfo=UTC))
    assert before == datetime(2025, 3, 30, 7, 0, tzinfo=UTC)
    assert after == before


def test_a_time_skipped_by_spring_forward_still_fires_once() -> None:
    # 02:30 does not exist in America/New_York on 2025-03-09.
    c = channel(time(2, 30), "America/New_York")
    fire = next_digest_at(c, datetime(2025, 3, 9, 5, 0, tzinfo=UTC))  # 00:00 EST
    assert fire is not None
    assert datetime(2025, 3, 9, 6, 0, tzinfo=UTC) <= fire <= datetime(2025, 3, 10, 7, 0, tzinfo=UTC)


def test_fall_back_fires_once_at_local_time() -> None:
    # Europe/Paris returns to UTC+1 on 2025-10-26: 09:00 local is 08:00 UTC that day.
    c = channel(time(9, 0), "Europe/Paris")
    first = next_digest_at(c, datetime(2025, 10, 25, 12, tzinfo=UTC))
    assert first == datetime(2025, 10, 26, 8, 0, tzinfo=UTC)
    second = next_digest_at(c, first)
    assert second == datetime(2025, 10, 27, 8, 0, tzinfo=UTC)


def test_off_or_paused_has_no_next() -> None:
    now = datetime(2025, 11, 28, tzinfo=UTC)
    assert next_digest_at(channel(time(9), "UTC", enabled=False), now) is None
    assert next_digest_at(channel(time(9), "UTC", paused="bot removed"), now) is None


def test_last_slot_is_the_latest_fire_at_or_before_now() -> None:
    c = channel(time(9, 0), "UTC")
    assert last_digest_slot(c, datetime(2025, 11, 28, 10, tzinfo=UTC)) == datetime(2025, 11, 28, 9, tzinfo=UTC)
    assert last_digest_slot(c, datetime(2025, 11, 28, 8, tzinfo=UTC)) == datetime(2025, 11, 27, 9, tzinfo=UTC)
    assert last_digest_slot(c, datetime(2025, 11, 28, 9, tzinfo=UTC)) == datetime(2025, 11, 28, 9, tzinfo=UTC)

"""Is the feed quiet, or broken? The rules that tell a stale, partial or empty Daily Papers day from a normal
one, and arXiv's announcement schedule, so that `status`, `today` and digests can say which.

Hugging Face Daily Papers are curated on weekdays (none on Saturdays and Sundays) and fill up during the
day, so the latest complete day is usually yesterday. For the newest weekday the hourly ingest fetched:

- **stale**: the papers the feed gave for a day are exactly the previous day's (the feed is serving an
  old batch): "the Daily Papers feed looks stale since <day>";
- **partial**: a finished weekday with far fewer papers than usual (under `PARTIAL_SHARE` of the median
  of recent weekdays, and under `PARTIAL_BELOW`);
- **empty**: a finished weekday with no papers at all; today, while it is still early: "today's Daily
  Papers are not published yet".

The ingest runs hourly, so each of these is fetched again within the hour; the note says so.

arXiv announces new submissions Sunday to Thursday at 20:00 US Eastern (none on Friday and Saturday,
and none on the holidays it publishes; Paperboy takes those from `PAPERBOY_ARXIV__HOLIDAYS`).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

NOT_YET_PUBLISHED = "Today's Daily Papers are not published yet; Paperboy fetches them every hour."
"""The note of an ordinary morning: worth saying in `today` and `status`, not in a digest of yesterday."""

PARTIAL_SHARE = 0.3
PARTIAL_BELOW = 10
TYPICAL_DAYS = 10
"""How many recent weekdays the usual count is the median of."""

ARXIV_TZ = ZoneInfo("America/New_York")
ARXIV_ANNOUNCES = time(20, 0)
ARXIV_DAYS = frozenset({6, 0, 1, 2, 3})  # Sunday..Thursday (Monday is 0)


def _label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def typical_count(counts: Mapping[date, int]) -> float | None:
    """The median number of papers of the last `TYPICAL_DAYS` weekdays that had any."""
    days = sorted((d for d, n in counts.items() if d.weekday() < 5 and n > 0), reverse=True)[:TYPICAL_DAYS]
    return statistics.median(counts[d] for d in days) if days else None


def daily_papers_note(
    today: date,
    fetched: Mapping[date, frozenset[str]],
    previous: Mapping[date, frozenset[str]],
    typical: float | None,
) -> str | None:
    """What the newest weekday fetched looks like, when it is not a normal day; None when it is.

    `fetched` holds the ids the feed gave per day; `previous`, per day, the ids stored for the featured
    day before it; `typical` the usual count of a weekday (`typical_count`).
    """
    today_pending: str | None = None
    for day in sorted((d for d in fetched if d.weekday() < 5), reverse=True):
        ids = fetched[day]
        before = previous.get(day)
        if ids and before and ids == before:
            return (
                f"The Daily Papers feed looks stale: for {_label(day)} it gave the papers of the day before "
                "again. Paperboy fetches it again every hour."
            )
        if day >= today:
            if ids:
                return None  # today is filling up: nothing to say
            today_pending = NOT_YET_PUBLISHED  # normal in the morning, unless the day before is wrong too
            continue
        if not ids:
            return (
                f"No Daily Papers were published for {_label(day)} (or the feed is late); "
                "Paperboy fetches it again every hour."
            )
        if typical is not None and len(ids) < PARTIAL_BELOW and len(ids) < PARTIAL_SHARE * typical:
            return (
                f"The Daily Papers of {_label(day)} look partial: {len(ids)} papers, usually about "
                f"{round(typical)}. Paperboy fetches them again every hour."
            )
        return today_pending
    return today_pending


def next_arxiv_announcement(now: datetime, holidays: Iterable[date] = ()) -> datetime:
    """The next time arXiv announces new papers (Sunday to Thursday, 20:00 US Eastern, not on holidays)."""
    off = set(holidays)
    local = now.astimezone(ARXIV_TZ)
    for days in range(0, 15):
        day = local.date() + timedelta(days=days)
        at = datetime.combine(day, ARXIV_ANNOUNCES, ARXIV_TZ)
        if at > local and day.weekday() in ARXIV_DAYS and day not in off:
            return at
    raise ValueError("no arXiv announcement in the next two weeks: check PAPERBOY_ARXIV__HOLIDAYS")


def arxiv_quiet_note(now: datetime, holidays: Iterable[date] = ()) -> str:
    """Why an arXiv fetch found nothing new: the schedule, and when the next announcement is."""
    nxt = next_arxiv_announcement(now, holidays)
    skipped = [d for d in sorted(set(holidays)) if now.astimezone(ARXIV_TZ).date() <= d < nxt.date()]
    holiday = f" (no announcement on {', '.join(_label(d) for d in skipped)}: an arXiv holiday)" if skipped else ""
    return (
        "arXiv announces new papers Sunday to Thursday at 20:00 US Eastern; nothing new since the last one. "
        f"Next: {nxt:%a} {nxt.day} {nxt:%b} 20:00 ET{holiday}."
    )


def digest_note(note: str | None) -> str | None:
    """The part of a feed note a digest (of the latest complete day) should carry."""
    return None if note == NOT_YET_PUBLISHED else note

"""Every scheduled job by name, so each can also be run once by hand (`paperboy jobs run NAME --at ...`).

A job is one pass of something the scheduler repeats: fetch the feed, post the digests or rollups whose
time has come, post the follow-ups due, poll the Hub, finish what a crash left. Run by hand it does the
same pass once, at a pretend time when the operator gives one (catching up after an outage, or a test
moving time instead of sleeping), and says in one line what it did. Nothing in a job depends on being
run only once: every post goes through a delivery claim.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta


class UnknownJob(LookupError):
    def __init__(self, name: str, known: Sequence[str]) -> None:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        super().__init__(f"There is no job `{name}`.{hint} Jobs: {', '.join(known)}.")


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    summary: str
    """What one pass does, for `paperboy jobs list`."""
    run: Callable[[], Awaitable[str]]
    """One pass; returns what it did, in one line."""
    every: timedelta | None = None
    """The scheduler's interval; None when the scheduler fires it per channel (digests, weekly) or never."""
    at_start: bool = False
    """Also run as soon as the scheduler starts (a feed fetch should not wait an hour)."""
    schedule: str = ""
    """When the scheduler runs it, for people: "every 60 min", "at each channel's digest time"."""


class Jobs:
    """The registry: the order given is the order `jobs list` shows."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        names = [j.name for j in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate job names in {names}")
        self._jobs = {j.name: j for j in jobs}

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)

    @property
    def names(self) -> list[str]:
        return list(self._jobs)

    def get(self, name: str) -> Job:
        try:
            return self._jobs[name]
        except KeyError:
            raise UnknownJob(name, self.names) from None

    def periodic(self) -> list[Job]:
        return [j for j in self._jobs.values() if j.every is not None]


def every(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    if seconds % 3600 == 0:
        return f"every {seconds // 3600} h"
    if seconds % 60 == 0:
        return f"every {seconds // 60} min"
    return f"every {seconds} s"

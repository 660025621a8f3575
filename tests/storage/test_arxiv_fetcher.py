"""Replicas share one arXiv fetcher: one at a time, and 3 s between requests for all of them together."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.clock import FixedClock
from bot.ingest import ARXIV_LOCK, Busy, ingest_arxiv
from bot.types import Paper, Source
from storage import Database
from tests.storage.conftest import NOW, Backend


class Submissions:
    """arXiv as the fetcher sees it (the `arxiv` client itself is covered by tests/contract/test_arxiv_source.py)."""

    def __init__(self, papers: list[Paper]) -> None:
        self.papers = papers
        self.calls = 0

    async def fetch(
        self, *, categories: Sequence[str] = (), query: str | None = None, max_results: int = 100
    ) -> list[Paper]:
        self.calls += 1
        return self.papers


def paper(i: int) -> Paper:
    return Paper(
        id=f"2510.{10000 + i}", title=f"Paper {i}", abstract="A.", sources=(Source.ARXIV,), categories=("cs.CL",)
    )


async def test_a_second_fetch_waits_out_the_interval_whichever_replica_made_the_first(
    db: Database, replica: Database
) -> None:
    clock = FixedClock(NOW)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(timedelta(seconds=seconds))

    arxiv = Submissions([paper(1), paper(2)])
    first = await ingest_arxiv(arxiv, db, clock, categories=["cs.CL"], query=None, min_interval=3.0, sleep=sleep)
    assert first is not None and first.inserted == 2 and slept == []
    clock.advance(timedelta(seconds=1))
    # The other replica (another connection to the same database) asks one second later: it waits 2 s.
    again = await ingest_arxiv(arxiv, replica, clock, categories=["cs.CL"], query=None, min_interval=3.0, sleep=sleep)
    assert again is not None and again.inserted == 0
    assert slept == [2.0]


async def test_a_fetch_that_finds_nothing_new_explains_the_schedule(db: Database) -> None:
    clock = FixedClock(NOW)
    arxiv = Submissions([paper(1)])
    await ingest_arxiv(arxiv, db, clock, categories=["cs.CL"], query=None, min_interval=0.0)
    (health,) = [h for h in await db.sources.all() if h.source == "arxiv"]
    assert health.note is None  # something new came
    await ingest_arxiv(arxiv, db, clock, categories=["cs.CL"], query=None, min_interval=0.0)
    (health,) = [h for h in await db.sources.all() if h.source == "arxiv"]
    assert health.note is not None and "Sunday to Thursday at 20:00 US Eastern" in health.note


async def test_one_replica_fetches_at_a_time(db: Database, replica: Database, backend: Backend) -> None:
    arxiv = Submissions([paper(1)])
    async with db.advisory_lock(ARXIV_LOCK) as held:
        assert held
        fetch = ingest_arxiv(arxiv, replica, FixedClock(NOW), categories=["cs.CL"], query=None, min_interval=0.0)
        if backend.name == "postgres":
            with pytest.raises(Busy):
                await fetch
            assert arxiv.calls == 0
        else:  # SQLite serves one process: the lock is always its own
            assert await fetch is not None and arxiv.calls == 1

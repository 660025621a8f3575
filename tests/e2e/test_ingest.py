"""Ingest: batching, in-batch merging, health recording; then the whole shared archive into real SQLite."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.errors import SourceError
from bot.ingest import describe_result, ingest_from, ingest_papers, merge_papers
from bot.sources.files import count_records, iter_daily_papers_files
from bot.sources.hf import HfDailyPapers
from bot.types import Paper, Source, UpsertResult
from tests.fakes.hf import serve_fake_hub
from tests.shared_data import ARCHIVE

NOW = datetime(2025, 11, 28, 12, 0, tzinfo=UTC)


@dataclass
class MemorySink:
    """A PaperSink keeping the latest version of each paper; counts like storage does."""

    papers: dict[str, Paper] = field(default_factory=dict)
    batches: list[list[str]] = field(default_factory=list)

    async def upsert(self, papers: Sequence[Paper], *, seen_at: datetime) -> UpsertResult:
        self.batches.append([p.id for p in papers])
        inserted = updated = unchanged = 0
        for paper in papers:
            old = self.papers.get(paper.id)
            new = paper if old is None else merge_papers(old, paper)
            if old is None:
                inserted += 1
            elif new == old:
                unchanged += 1
            else:
                updated += 1
            self.papers[paper.id] = new
        return UpsertResult(inserted, updated, unchanged)


@dataclass
class MemoryHealth:
    events: list[tuple[str, str, str]] = field(default_factory=list)

    async def record_success(self, source: str, *, at: datetime, result: str) -> None:
        self.events.append(("ok", source, result))

    async def record_failure(self, source: str, *, at: datetime, error: str) -> None:
        self.events.append(("failed", source, error))


def _paper(paper_id: str, day: date, upvotes: int) -> Paper:
    return Paper(id=paper_id, title=f"Paper {paper_id}", abstract="", featured_days=(day,), upvotes=upvotes)


# ---------------------------------------------------------------------------------------------
# In memory


async def test_batches_and_an_in_batch_duplicate_becomes_one_paper_with_two_days() -> None:
    sink = MemorySink()
    papers = [
        _paper("2404.03648", date(2024, 4, 5), 10),
        _paper("2404.00001", date(2024, 4, 5), 1),
        _paper("2404.03648", date(2024, 4, 8), 7),
        _paper("2404.00002", date(2024, 4, 8), 2),
        _paper("2404.00003", date(2024, 4, 8), 3),
    ]
    result = await ingest_papers(sink, papers, now=NOW, batch_size=3)
    assert sink.batches == [["2404.03648", "2404.00001"], ["2404.00002", "2404.00003"]]
    assert result == UpsertResult(inserted=4)
    merged = sink.papers["2404.03648"]
    assert merged.featured_days == (date(2024, 4, 5), date(2024, 4, 8))
    assert merged.upvotes == 10


def test_merge_unions_sources_and_keeps_the_newer_values() -> None:
    hf = Paper(id="2510.14968", title="T", abstract="A", upvotes=5, github_stars=3, featured_days=(date(2025, 10, 17),))
    ax = Paper(id="2510.14968", title="T v2", abstract="", sources=(Source.ARXIV,), categories=("cs.RO",))
    merged = merge_papers(hf, ax)
    assert merged.sources == (Source.HF, Source.ARXIV)
    assert merged.title == "T v2" and merged.abstract == "A"
    assert merged.upvotes == 5 and merged.github_stars == 3 and merged.categories == ("cs.RO",)
    assert merged.featured_days == (date(2025, 10, 17),)
    with pytest.raises(ValueError, match="cannot merge"):
        merge_papers(hf, replace(ax, id="2510.00001"))


async def test_ingest_from_a_file_source_records_success() -> None:
    sink, health = MemorySink(), MemoryHealth()
    path = ARCHIVE / "daily_papers_2024-04.json"

    async def fetch() -> list[Paper]:
        return list(iter_daily_papers_files([path]))

    result = await ingest_from("file", fetch, sink, health, now=NOW)
    assert result == UpsertResult(inserted=199)
    assert health.events == [("ok", "file", "199 papers (199 new, 0 updated)")]
    assert sink.papers["2404.03648"].featured_days == (date(2024, 4, 5), date(2024, 4, 8))


async def test_a_failing_source_is_recorded_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    sink, health = MemorySink(), MemoryHealth()

    async def broken() -> list[Paper]:
        raise SourceError("HF day 2025-11-28: HTTP 500 from https://huggingface.co/api/daily_papers")

    assert await ingest_from("hf", broken, sink, health, now=NOW) is None
    assert health.events == [
        ("failed", "hf", "HF day 2025-11-28: HTTP 500 from https://huggingface.co/api/daily_papers")
    ]
    assert sink.papers == {}


async def test_an_unexpected_error_is_logged_and_recorded_without_its_text(caplog: pytest.LogCaptureFixture) -> None:
    health = MemoryHealth()

    async def buggy() -> list[Paper]:
        raise KeyError("token=hf_secret")

    with caplog.at_level(logging.ERROR, logger="bot.ingest"):
        assert await ingest_from("hf", buggy, MemorySink(), health, now=NOW) is None
    assert health.events == [("failed", "hf", "unexpected error (KeyError)")]
    assert "unexpected error during ingest" in caplog.text


async def test_a_failing_health_log_does_not_raise_either() -> None:
    class BrokenHealth(MemoryHealth):
        async def record_failure(self, source: str, *, at: datetime, error: str) -> None:
            raise RuntimeError("database is locked")

    async def broken() -> list[Paper]:
        raise SourceError("arXiv: HTTP 503")

    assert await ingest_from("arxiv", broken, MemorySink(), BrokenHealth(), now=NOW) is None


async def test_a_partial_hf_day_over_http_stores_the_good_papers() -> None:
    sink, health = MemorySink(), MemoryHealth()
    with serve_fake_hub() as hub:
        hub.corrupt_index = 0
        source = HfDailyPapers(endpoint=hub.url, token=SecretStr("hf_x"), timeout=5)
        result = await ingest_from("hf", lambda: source.fetch_day(date(2025, 9, 30)), sink, health, now=NOW)
    assert result == UpsertResult(inserted=81)
    assert source.last_skipped == 1
    assert health.events == [("ok", "hf", "81 papers (81 new, 0 updated)")]


def test_describe_result() -> None:
    assert describe_result(UpsertResult(3, 5, 34)) == "42 papers (3 new, 5 updated)"
    assert describe_result(UpsertResult(1, 0, 0)) == "1 paper (1 new, 0 updated)"


# ---------------------------------------------------------------------------------------------
# The whole archive into a real SQLite database (storage.Database)


async def test_the_whole_archive_into_sqlite(tmp_path: Path) -> None:
    storage = pytest.importorskip("storage")
    db = await storage.Database.connect("sqlite+aiosqlite:///" + str(tmp_path / "p.db"))
    try:
        await db.upgrade()
        total = count_records([ARCHIVE])
        assert total == 7585

        started = time.perf_counter()
        first = await ingest_papers(db.papers, iter_daily_papers_files([ARCHIVE]), now=NOW, total=total)
        elapsed = time.perf_counter() - started
        print(f"\ningested {total} records in {elapsed:.2f} s: {describe_result(first)}")

        assert await db.papers.count() == 7584
        assert first.inserted == 7584
        two_days = await db.papers.get("2404.03648")
        assert two_days is not None
        assert two_days.featured_days == (date(2024, 4, 5), date(2024, 4, 8))
        for withdrawn_id in ("2306.05949", "2410.07062"):
            paper = await db.papers.get(withdrawn_id)
            assert paper is not None and paper.withdrawn
        normal = await db.papers.get("2511.17918")
        assert normal is not None and not normal.withdrawn and normal.upvotes == 0

        started = time.perf_counter()
        second = await ingest_papers(db.papers, iter_daily_papers_files([ARCHIVE]), now=NOW, total=total)
        print(f"re-ingested in {time.perf_counter() - started:.2f} s: {describe_result(second)}")
        assert second == UpsertResult(unchanged=7584)
    finally:
        await db.close()


async def test_ingest_from_records_health_in_sqlite(tmp_path: Path) -> None:
    storage = pytest.importorskip("storage")
    db = await storage.Database.connect("sqlite+aiosqlite:///" + str(tmp_path / "p.db"))
    try:
        await db.upgrade()

        async def fetch() -> list[Paper]:
            return list(iter_daily_papers_files([ARCHIVE / "daily_papers_2025-11.json"]))

        async def broken() -> list[Paper]:
            raise SourceError("HF day 2025-11-28: timed out after 20 s")

        assert await ingest_from("file", fetch, db.papers, db.sources, now=NOW) is not None
        assert await ingest_from("hf", broken, db.papers, db.sources, now=NOW) is None
        health = {h.source: h for h in await db.sources.all()}
        assert health["file"].last_result is not None and health["file"].last_result.endswith("0 updated)")
        assert health["hf"].last_error == "HF day 2025-11-28: timed out after 20 s"
    finally:
        await db.close()

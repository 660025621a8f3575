"""Ingest: papers from a source into storage, in batches, idempotently; a failing source never stops the bot.

The storage layer provides the two protocols below (`Database.papers` is a `PaperSink`, `Database.sources`
a `HealthLog`); this module only depends on the protocols.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar

from tqdm import tqdm

from bot import feed
from bot.clock import Clock
from bot.errors import SourceError, StoreUnavailable
from bot.metrics import SOURCE_FETCHES, SOURCE_LAST_SUCCESS
from bot.ports import DailyPapers, NewSubmissions, Store
from bot.sources.files import count_records, iter_daily_papers_files
from bot.sources.sample import sample_paths
from bot.types import Paper, UpsertResult

__all__ = [
    "HealthLog",
    "PaperSink",
    "describe_result",
    "ingest_from",
    "ingest_papers",
    "ingest_recent",
    "merge_papers",
    "seed_sample_if_empty",
]

INGEST_LOCK = "paperboy-ingest"
ARXIV_LOCK = "paperboy-arxiv"
ARXIV_LAST_REQUEST = "arxiv:last_request_at"
"""When any replica last finished asking arXiv, so that the next request, from whichever machine, keeps
arXiv's one request every 3 seconds for all of them together."""

logger = logging.getLogger(__name__)


class PaperSink(Protocol):
    async def upsert(self, papers: Sequence[Paper], *, seen_at: datetime) -> UpsertResult: ...


class HealthLog(Protocol):
    async def record_success(self, source: str, *, at: datetime, result: str) -> None: ...

    async def record_failure(self, source: str, *, at: datetime, error: str) -> None: ...


_T = TypeVar("_T")


def _union(first: Sequence[_T], second: Sequence[_T]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys((*first, *second)))


def _max_optional(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def merge_papers(older: Paper, newer: Paper) -> Paper:
    """One paper from two sightings of the same id.

    Featured days, sources, categories and keywords are unions; counts take the maximum (upvotes only grow,
    a lower count is an older snapshot); other fields prefer the newer sighting when it has a value.
    """
    if older.id != newer.id:
        raise ValueError(f"cannot merge {older.id} with {newer.id}")
    return Paper(
        id=newer.id,
        title=newer.title or older.title,
        abstract=newer.abstract or older.abstract,
        authors=newer.authors or older.authors,
        published_at=newer.published_at or older.published_at,
        featured_days=tuple(sorted(set(older.featured_days) | set(newer.featured_days))),
        upvotes=max(older.upvotes, newer.upvotes),
        comments=max(older.comments, newer.comments),
        ai_summary=newer.ai_summary or older.ai_summary,
        ai_keywords=newer.ai_keywords or older.ai_keywords,
        github_repo=newer.github_repo or older.github_repo,
        github_stars=_max_optional(older.github_stars, newer.github_stars),
        project_page=newer.project_page or older.project_page,
        thumbnail=newer.thumbnail or older.thumbnail,
        organization=newer.organization or older.organization,
        withdrawn=older.withdrawn or newer.withdrawn,
        sources=_union(older.sources, newer.sources),
        categories=_union(older.categories, newer.categories),
    )


def _merge_batch(batch: Sequence[Paper]) -> list[Paper]:
    merged: dict[str, Paper] = {}
    for paper in batch:
        seen = merged.get(paper.id)
        merged[paper.id] = paper if seen is None else merge_papers(seen, paper)
    return list(merged.values())


async def ingest_papers(
    sink: PaperSink,
    papers: Iterable[Paper],
    *,
    now: datetime,
    batch_size: int = 500,
    progress: bool = False,
    total: int | None = None,
) -> UpsertResult:
    """Upsert `papers` in batches of `batch_size`; returns the summed result.

    Sightings of one id inside a batch are merged first (a paper featured on two days of one file is one
    paper with two days). Across batches, the sink's upsert is what merges. The progress bar (tqdm, on
    stderr) shows only when `progress` is true and stderr is a terminal.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    result = UpsertResult()
    with tqdm(
        total=total, unit="paper", desc="ingest", disable=not (progress and sys.stderr.isatty()), file=sys.stderr
    ) as bar:
        batch: list[Paper] = []
        for paper in papers:
            batch.append(paper)
            if len(batch) >= batch_size:
                result += await sink.upsert(_merge_batch(batch), seen_at=now)
                bar.update(len(batch))
                batch = []
        if batch:
            result += await sink.upsert(_merge_batch(batch), seen_at=now)
            bar.update(len(batch))
    return result


def describe_result(result: UpsertResult) -> str:
    """The short line `status` shows, e.g. "42 papers (3 new, 5 updated)"."""
    total = result.inserted + result.updated + result.unchanged
    noun = "paper" if total == 1 else "papers"
    return f"{total} {noun} ({result.inserted} new, {result.updated} updated)"


async def ingest_from(
    source_name: str,
    fetch: Callable[[], Awaitable[Sequence[Paper]]],
    sink: PaperSink,
    health: HealthLog,
    *,
    now: datetime,
) -> UpsertResult | None:
    """Fetch from one source and store the papers, recording the outcome in the health log.

    A failing source is logged, recorded as a failure, and None is returned, so what was stored keeps
    serving and the next run retries. Only an unreachable database is raised (`StoreUnavailable`): that
    is not the source's failure, and there is nowhere to record it.
    """
    try:
        papers = await fetch()
        result = await ingest_papers(sink, papers, now=now)
    except StoreUnavailable:
        raise
    except SourceError as exc:
        logger.warning("source %s failed: %s", source_name, exc)
        await _record_failure(health, source_name, now, str(exc))
        return None
    except Exception as exc:
        logger.exception("source %s: unexpected error during ingest", source_name)
        # The text of an unexpected exception may carry anything (URLs, tokens): status shows only its type.
        await _record_failure(health, source_name, now, f"unexpected error ({type(exc).__name__})")
        return None
    summary = describe_result(result)
    logger.info("source %s: %s", source_name, summary)
    try:
        await health.record_success(source_name, at=now, result=summary)
        SOURCE_LAST_SUCCESS.labels(source=source_name).set(now.timestamp())
    except StoreUnavailable:
        raise
    except Exception:
        logger.exception("source %s: could not record success", source_name)
    return result


async def _record_failure(health: HealthLog, source_name: str, now: datetime, error: str) -> None:
    try:
        await health.record_failure(source_name, at=now, error=error)
    except StoreUnavailable:
        raise
    except Exception:
        logger.exception("source %s: could not record failure", source_name)


async def seed_sample_if_empty(store: Store, clock: Clock, *, progress: bool = False) -> UpsertResult | None:
    """The offline default: a first run with an empty database serves the bundled real sample."""
    if await store.papers.count() > 0:
        return None
    paths = sample_paths()
    result = await ingest_papers(
        store.papers, iter_daily_papers_files(paths), now=clock.now(), progress=progress, total=count_records(paths)
    )
    await store.sources.record_success("sample", at=clock.now(), result=describe_result(result))
    return result


async def ingest_recent(hf: DailyPapers, store: Store, clock: Clock, *, refetch_days: int) -> str:
    """The hourly job: today and the last few days again (upvotes keep growing for days).

    One replica at a time (an advisory lock); a failing day stops the pass, and the next run retries
    every day. After a pass, what the newest weekday looked like (stale, partial, empty: `bot.feed`) is
    recorded with the source's health, for `status`, `today` and digests to explain. Returns what it did.
    """
    async with store.advisory_lock(INGEST_LOCK) as acquired:
        if not acquired:
            logger.info("ingest skipped: another replica holds the ingest lock")
            return "skipped: another replica is ingesting"
        today = clock.now().date()
        fetched: dict[date, frozenset[str]] = {}
        total = UpsertResult()
        for back in range(refetch_days + 1):
            day = today - timedelta(days=back)

            async def fetch(day: date = day) -> list[Paper]:
                papers = await hf.fetch_day(day)
                fetched[day] = frozenset(p.id for p in papers)
                return papers

            result = await ingest_from("hf", fetch, store.papers, store.sources, now=clock.now())
            SOURCE_FETCHES.labels(source="hf", outcome="ok" if result is not None else "error").inc()
            if result is None:
                # The source is down; the next run retries all days.
                return f"Hugging Face failed at {day}; the next run retries (see `status`)"
            total += result
        await store.sources.set_note("hf", await _feed_note(store, today, fetched))
        return f"{len(fetched)} days from Hugging Face: {describe_result(total)}"


async def _feed_note(store: Store, today: date, fetched: dict[date, frozenset[str]]) -> str | None:
    papers = store.papers
    previous: dict[date, frozenset[str]] = {}
    for day in fetched:
        before = await papers.latest_featured_day(on_or_before=day - timedelta(days=1))
        if before is not None:
            previous[day] = frozenset(p.id for p in await papers.featured_on(before))
    counts = await papers.featured_counts(today - timedelta(days=3 * feed.TYPICAL_DAYS), today - timedelta(days=1))
    note = feed.daily_papers_note(today, fetched, previous, feed.typical_count(counts))
    if note is not None:
        logger.info("source hf: %s", note)
    return note


Sleep = Callable[[float], Awaitable[None]]


class Busy(Exception):
    """Another replica holds the lock for this source right now."""


async def ingest_arxiv(
    source: NewSubmissions,
    store: Store,
    clock: Clock,
    *,
    categories: Sequence[str],
    query: str | None,
    min_interval: float,
    holidays: Sequence[date] = (),
    sleep: Sleep = asyncio.sleep,
    wall: Clock | None = None,
) -> UpsertResult | None:
    """The newest arXiv papers of the configured categories, by one replica at a time.

    arXiv allows one request every 3 seconds per client, and every replica is the same client to it: the
    fetch runs under an advisory lock, and starts no sooner than `min_interval` after the last request
    any replica made (kept in the store). A fetch that finds nothing new records why (arXiv's schedule,
    `bot.feed.arxiv_quiet_note`). Raises `Busy` when another replica is fetching. The pacing keeps to the
    `wall` clock (real time, whatever time a job run by hand pretends it is).
    """
    wall = wall or clock
    async with store.advisory_lock(ARXIV_LOCK) as acquired:
        if not acquired:
            raise Busy("another Paperboy replica is fetching from arXiv right now")
        last = await store.kv.get(ARXIV_LAST_REQUEST)
        if last is not None:
            wait = (datetime.fromisoformat(last) + timedelta(seconds=min_interval) - wall.now()).total_seconds()
            if wait > 0:
                await sleep(min(wait, min_interval))
        try:
            result = await ingest_from(
                "arxiv",
                lambda: source.fetch(categories=categories, query=query),
                store.papers,
                store.sources,
                now=clock.now(),
            )
        finally:
            await store.kv.set(ARXIV_LAST_REQUEST, wall.now().isoformat())
        SOURCE_FETCHES.labels(source="arxiv", outcome="ok" if result is not None else "error").inc()
        if result is not None:
            quiet = result.inserted == 0
            await store.sources.set_note("arxiv", feed.arxiv_quiet_note(clock.now(), holidays) if quiet else None)
        return result

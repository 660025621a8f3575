"""The composition root: settings -> storage -> sources -> engine -> adapters -> scheduler.

Nothing else wires parts together; tests and the CLI build the same `Paperboy` with other parts.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from aiohttp import web

from adapters.base import ChatAdapter
from bot.clock import Clock
from bot.config import Settings
from bot.delivery import Deliverer, RetryPolicy, Sleep
from bot.digest_run import DigestRunner
from bot.engine import Engine
from bot.ingest import describe_result, ingest_from, ingest_papers
from bot.metrics import SOURCE_FETCHES
from bot.scheduler import DigestScheduler
from bot.sources.files import count_records, iter_daily_papers_files
from bot.sources.hf import HfDailyPapers
from bot.sources.sample import sample_paths
from bot.types import Platform, UpsertResult
from bot.web import make_web_app
from storage import Database

logger = logging.getLogger(__name__)


def replica_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Paperboy:
    settings: Settings
    clock: Clock
    db: Database
    engine: Engine
    runner: DigestRunner
    deliverer: Deliverer
    adapters: dict[Platform, ChatAdapter] = field(default_factory=dict)
    hf: HfDailyPapers | None = None
    scheduler: DigestScheduler | None = None
    web_app: web.Application | None = None

    async def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
        for adapter in self.adapters.values():
            try:
                await adapter.stop()
            except Exception:
                logger.exception("adapter %s did not stop cleanly", adapter.platform)
        await self.db.close()


async def open_database(settings: Settings) -> Database:
    db = await Database.connect(settings.resolved_database_url)
    await db.upgrade()
    return db


async def build(
    settings: Settings,
    clock: Clock,
    *,
    db: Database | None = None,
    adapters: Mapping[Platform, ChatAdapter] | None = None,
    retry: RetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
) -> Paperboy:
    """Everything but the network connections, which `start` opens."""
    db = db or await open_database(settings)
    hf = None if settings.offline else HfDailyPapers(settings.hf.endpoint, settings.hf.token, settings.hf.timeout)
    chosen: dict[Platform, ChatAdapter] = dict(adapters or {})
    policy = retry or RetryPolicy(
        attempts=settings.delivery.attempts, claim_ttl=timedelta(seconds=settings.delivery.claim_ttl_seconds)
    )
    deliverer = Deliverer(db, chosen, clock, replica_id=replica_id(), policy=policy, sleep=sleep)
    runner = DigestRunner(db, clock, deliverer, concurrency=settings.delivery.concurrency)
    engine = Engine(db=db, settings=settings, clock=clock, remote=hf, digests=runner)
    return Paperboy(settings, clock, db, engine, runner, deliverer, chosen, hf)


async def seed_sample_if_empty(app: Paperboy, *, progress: bool = False) -> UpsertResult | None:
    """The offline default: a first run with an empty database serves the bundled real sample."""
    if await app.db.papers.count() > 0:
        return None
    paths = sample_paths()
    result = await ingest_papers(
        app.db.papers,
        iter_daily_papers_files(paths),
        now=app.clock.now(),
        progress=progress,
        total=count_records(paths),
    )
    await app.db.sources.record_success("sample", at=app.clock.now(), result=describe_result(result))
    return result


async def ingest_recent(app: Paperboy) -> None:
    """The hourly job: today and the last few days again (upvotes keep growing for days)."""
    if app.hf is None:
        return
    lock = app.db.advisory_lock("paperboy-ingest")
    async with lock as acquired:
        if not acquired:
            logger.info("ingest skipped: another replica holds the ingest lock")
            return
        today = app.clock.now().date()
        hf = app.hf
        for back in range(app.settings.ingest.refetch_days + 1):
            day = today - timedelta(days=back)
            result = await ingest_from(
                "hf", functools.partial(hf.fetch_day, day), app.db.papers, app.db.sources, now=app.clock.now()
            )
            SOURCE_FETCHES.labels(source="hf", outcome="ok" if result is not None else "error").inc()
            if result is None:
                break  # the source is down; the next run retries all days


def attach_scheduler(app: Paperboy) -> DigestScheduler:
    grace = timedelta(hours=app.settings.digest.misfire_grace_hours)
    ingest = None if app.settings.offline else (lambda: ingest_recent(app))
    scheduler = DigestScheduler(
        app.db,
        app.runner,
        app.clock,
        grace=grace,
        ingest=ingest,
        ingest_every=timedelta(minutes=app.settings.ingest.interval_minutes),
        recover_every=timedelta(seconds=app.settings.delivery.recover_interval_seconds),
    )
    app.scheduler = scheduler
    app.engine.schedule = scheduler
    return scheduler


def attach_web(app: Paperboy) -> web.Application:
    async def ready() -> dict[str, bool]:
        checks = {"database": await app.db.ping()}
        for platform, adapter in app.adapters.items():
            checks[f"adapter:{platform.value}"] = adapter.connected
        return checks

    app.web_app = make_web_app(ready)
    return app.web_app


async def serve_web(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner

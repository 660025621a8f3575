"""The composition root: settings -> storage -> sources -> engine -> adapters -> scheduler -> web.

`Paperboy` is the only place that wires parts together, and it owns their lifecycle::

    async with Paperboy(settings, profile=RUN) as app:
        ...

A `Profile` says which parts a use of the application starts: `paperboy run` starts everything,
`paperboy chat` the console channel, one-off CLI commands only the database and the engine. Tests and
the demo build the same `Paperboy` with other parts (a fixed clock, a memory adapter, no retries' sleep).
Starting opens the database (and runs its migrations), builds the core, connects the chat adapters
(`ChatAdapter.start` is called here and nowhere else), then the web surface and the scheduler; stopping
undoes it in reverse, whatever had started.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import TypeVar

from aiohttp import web

from adapters.console import ConsoleAdapter
from bot.channels import Channels
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.delivery import Deliverer, RetryPolicy, Sleep
from bot.digest import DigestBuilder
from bot.digest_run import DigestRunner
from bot.engine import Engine
from bot.features import Services, command_registry
from bot.features.follows import PausedFollows
from bot.followups import FollowUps, PaperInfoPoll
from bot.ingest import describe_result, ingest_arxiv, ingest_recent, seed_sample_if_empty
from bot.jobs import Jobs
from bot.journal_club import Reminders
from bot.leases import Identity, Lease
from bot.metrics import SOURCE_LAST_SUCCESS
from bot.outage import StoreHealth
from bot.ports import ChatAdapter, RemotePapers
from bot.progress import PageProgress
from bot.recovery import Recovery
from bot.scheduler import Scheduler
from bot.search import Search
from bot.similar import MoreLikeThis
from bot.sources.arxiv import ArxivSource
from bot.sources.fallback import FirstThatKnows
from bot.sources.hf import HfDailyPapers
from bot.types import DeliveryKind, Platform, UpsertResult
from bot.weekly import WeeklyRollups
from paperboy.jobs import scheduled_jobs
from paperboy.platforms import discord_adapter, platform_adapters
from paperboy.web import make_web_app
from storage import Database

logger = logging.getLogger(__name__)


class Chat(enum.Enum):
    """Which chat adapters a profile connects (unless the caller hands its own)."""

    NONE = "none"
    CONFIGURED = "configured"
    """Slack and/or Discord as the settings configure them; the console channel when neither is."""
    CONSOLE = "console"
    DISCORD = "discord"


@dataclass(frozen=True, slots=True)
class Profile:
    chat: Chat = Chat.NONE
    schedule: bool = False
    """Start the scheduler (and catch up the digests missed while down)."""
    serve: bool = False
    """Serve /healthz, /readyz, /metrics (and Slack's HTTP routes) on the configured host and port."""
    recover: bool = False
    """Finish deliveries a crash left unfinished, right after start."""
    seed: bool = False
    """Load the bundled sample into an empty database, so a first run has papers to show."""


RUN = Profile(Chat.CONFIGURED, schedule=True, serve=True, recover=True, seed=True)
CHAT = Profile(Chat.CONSOLE, seed=True)
POST = Profile(Chat.CONFIGURED)
COMMANDS = Profile()
DISCORD_SYNC = Profile(Chat.DISCORD)


@dataclass
class Paperboy:
    settings: Settings
    profile: Profile = COMMANDS
    clock: Clock = field(default_factory=SystemClock)
    """What time it is for Paperboy's decisions (which day, which slot, which window)."""
    wall: Clock | None = None
    """Real time, for what other processes and the platforms read: leases, claims, pacing. Defaults to
    `clock`; a job run by hand at a pretend time (`jobs run --at`) keeps the system clock here, so other
    replicas never take its lease for lapsed nor its claims for abandoned."""
    database: Database | None = None
    """A database to use instead of opening `settings`' one (it is closed on stop all the same)."""
    chat: Sequence[ChatAdapter] | None = None
    """Adapters to connect instead of the profile's choice (tests, the demo)."""
    retry: RetryPolicy | None = None
    sleep: Sleep = asyncio.sleep

    # Built by start().
    adapters: dict[Platform, ChatAdapter] = field(default_factory=dict, init=False)
    web_app: web.Application = field(default_factory=web.Application, init=False)
    _db: Database | None = field(default=None, init=False)
    _engine: Engine | None = field(default=None, init=False)
    _runner: DigestRunner | None = field(default=None, init=False)
    _scheduler: Scheduler | None = field(default=None, init=False)
    _jobs: Jobs | None = field(default=None, init=False)
    _recovery: Recovery | None = field(default=None, init=False)
    _channels: Channels | None = field(default=None, init=False)
    _hf: HfDailyPapers | None = field(default=None, init=False)
    _lease: Lease | None = field(default=None, init=False)
    _related: MoreLikeThis | None = field(default=None, init=False)
    health: StoreHealth = field(init=False)
    _web_runner: web.AppRunner | None = field(default=None, init=False)
    _started: list[ChatAdapter] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.health = StoreHealth(self.wall or self.clock)

    # ---- parts, once started ---------------------------------------------------------------------

    @property
    def db(self) -> Database:
        return _started(self._db, "database")

    @property
    def engine(self) -> Engine:
        return _started(self._engine, "engine")

    @property
    def runner(self) -> DigestRunner:
        return _started(self._runner, "digest runner")

    @property
    def scheduler(self) -> Scheduler:
        return _started(self._scheduler, "scheduler")

    @property
    def jobs(self) -> Jobs:
        """Every scheduled job by name (`paperboy jobs list`), each runnable once by hand."""
        return _started(self._jobs, "job registry")

    @property
    def recovery(self) -> Recovery:
        return _started(self._recovery, "recovery")

    @property
    def channels(self) -> Channels:
        """The channels, created with the configured defaults on first use."""
        return _started(self._channels, "channels")

    @property
    def hf(self) -> HfDailyPapers | None:
        return self._hf

    @property
    def console(self) -> ConsoleAdapter | None:
        adapter = self.adapters.get(Platform.CONSOLE)
        return adapter if isinstance(adapter, ConsoleAdapter) else None

    # ---- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> Paperboy:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        settings, clock, profile = self.settings, self.clock, self.profile
        wall = self.wall or clock
        health = self.health
        db = self._db = self.database or await open_database(settings)
        # Freshness survives a restart: the gauge starts at the last success the database remembers,
        # so a "stale source" alert neither fires on every deploy nor goes blind after one.
        for source in await db.sources.all():
            if source.last_success_at is not None:
                SOURCE_LAST_SUCCESS.labels(source=source.source).set(source.last_success_at.timestamp())
        self._hf = (
            None if settings.offline else HfDailyPapers(settings.hf.endpoint, settings.hf.token, settings.hf.timeout)
        )
        # Every process that may claim a delivery holds a lease, renewed in the background.
        lease = self._lease = Lease(
            db.replicas,
            Identity.of_this_process(),
            wall,
            duration=timedelta(seconds=settings.delivery.lease_seconds),
            health=health,
        )
        await lease.acquire()
        lease.keep()
        policy = self.retry or RetryPolicy(attempts=settings.delivery.attempts)
        deliverer = Deliverer(
            db.deliveries,
            db.channels,
            self.adapters,
            wall,
            replica_id=lease.replica_id,
            policy=policy,
            sleep=self.sleep,
            lease=lease,
        )
        digests = DigestBuilder(db.papers, db.subscriptions, db.deliveries, db.sources, db.votes)
        runner = self._runner = DigestRunner(
            db.channels,
            db.deliveries,
            digests,
            db.papers,
            clock,
            deliverer,
            health=health,
            concurrency=settings.delivery.concurrency,
        )
        window = timedelta(days=settings.followups.window_days)
        followups = FollowUps(db, deliverer, clock, window=window)
        poll = None
        if self._hf is not None:
            budget = settings.followups.budget(settings.hf.token is not None)
            poll = PaperInfoPoll(self._hf, db, clock, window=window, budget=budget, sleep=self.sleep)
        weekly = WeeklyRollups(db.channels, db.subscriptions, db.papers, deliverer, clock, db.library)
        reminders = Reminders(db.channels, db.library, db.papers, deliverer, clock)
        recovery = self._recovery = Recovery(
            deliverer,
            {
                DeliveryKind.DIGEST: runner.recover,
                DeliveryKind.FOLLOWUP: followups.recover,
                DeliveryKind.WEEKLY: weekly.recover,
                DeliveryKind.REMINDER: reminders.recover,
            },
            health=health,
        )
        jobs = self._jobs = Jobs(scheduled_jobs(self, followups, poll, weekly, recovery, digests, reminders))
        scheduler = self._scheduler = Scheduler(
            db.channels,
            db.deliveries,
            runner,
            clock,
            grace=timedelta(hours=settings.digest.misfire_grace_hours),
            periodic=jobs.periodic(),
            weekly=weekly,
            health=health,
        )
        self._related = MoreLikeThis(db.papers)
        channels = self._channels = Channels(
            db.channels, digest_time=settings.digest.parsed_time, timezone=settings.digest.timezone, clock=clock
        )
        services = Services(
            store=db,
            clock=clock,
            channels=channels,
            search=Search(db.papers, clock),
            digests=digests,
            remote=self._remote_papers(),
            runner=runner,
            schedule=scheduler,
            related=self._related,
        )
        engine = self._engine = Engine(
            command_registry(services), health=health, notices=PausedFollows(db.channels, db.kv)
        )
        if profile.seed:
            seeded = await seed_sample_if_empty(db, clock, progress=True)
            if seeded is not None:
                logger.info("empty database: loaded the bundled sample (%s)", describe_result(seeded))
        self.web_app = make_web_app(self._readiness)
        chosen = list(self.chat) if self.chat is not None else self._chosen_adapters()
        for adapter in chosen:
            self.adapters[adapter.platform] = adapter
        if profile.serve:
            self._web_runner = await serve_web(self.web_app, settings.http.host, settings.http.port)
            logger.info("HTTP on %s:%d (/healthz, /readyz, /metrics)", settings.http.host, settings.http.port)
        for adapter in chosen:
            await adapter.start(engine)
            self._started.append(adapter)
        if self.console is not None:
            await channels.ensure(self.console.channel)  # so the console channel gets its daily digest too
        if profile.schedule:
            await scheduler.start()
            # Back from an outage: the digests due meanwhile, then what was left half done, then the feed.
            health.when_back("missed digests", scheduler.catch_up)
            health.when_back("missed weekly rollups", weekly.catch_up)
            health.when_back("unfinished deliveries", recovery.run)
            health.when_back("the ingest", self.ingest_recent)
        if profile.recover:
            await recovery.run()

    def _remote_papers(self) -> RemotePapers | None:
        """Where an unknown paper is looked up (online only): the Hub's record first, else arXiv's."""
        if self._hf is None:
            return None
        arxiv = self.settings.arxiv
        return FirstThatKnows([self._hf, ArxivSource(arxiv.api_url, arxiv.min_interval)])

    def _chosen_adapters(self) -> list[ChatAdapter]:
        match self.profile.chat:
            case Chat.NONE:
                return []
            case Chat.CONSOLE:
                return [ConsoleAdapter(self.clock)]
            case Chat.DISCORD:
                return [discord_adapter(self.settings, self.clock, self.db)]
            case Chat.CONFIGURED:
                found = platform_adapters(self.settings, self.clock, self.db, self.web_app)
                return found or [ConsoleAdapter(self.clock)]

    async def ingest_recent(self) -> str:
        """The hourly ingest job, once (nothing when offline); what it did."""
        if self._hf is None:
            return "offline: nothing fetched"
        return await ingest_recent(self._hf, self.db, self.clock, refetch_days=self.settings.ingest.refetch_days)

    async def ingest_arxiv(
        self, categories: Sequence[str] | None = None, query: str | None = None, *, progress: PageProgress | None = None
    ) -> UpsertResult | None:
        """The arXiv job, once: the configured categories and query unless others are given.

        Raises `bot.ingest.Busy` when another replica is fetching from arXiv right now.
        """
        arxiv = self.settings.arxiv
        return await ingest_arxiv(
            ArxivSource(arxiv.api_url, arxiv.min_interval, progress=progress),
            self.db,
            self.clock,
            categories=arxiv.categories if categories is None else categories,
            query=arxiv.query if query is None else query,
            min_interval=arxiv.min_interval,
            holidays=arxiv.holidays,
            wall=self.wall,
        )

    async def _readiness(self) -> dict[str, bool]:
        checks = {"database": await self.db.ping()}
        for platform, adapter in self.adapters.items():
            checks[f"adapter:{platform.value}"] = adapter.connected
        return checks

    async def stop(self) -> None:
        await self.health.close()
        if self._related is not None:
            await self._related.close()
        if self._scheduler is not None:
            self._scheduler.shutdown()
        if self._web_runner is not None:
            await self._web_runner.cleanup()
            self._web_runner = None
        for adapter in reversed(self._started):
            try:
                await adapter.stop()
            except Exception:
                logger.exception("adapter %s did not stop cleanly", adapter.platform)
        self._started.clear()
        if self._lease is not None:
            # Last, after the adapters: nothing of this process posts any more, others may take over.
            await self._lease.release()
            self._lease = None
        if self._db is not None:
            await self._db.close()
            self._db = None


T = TypeVar("T")


def _started(part: T | None, name: str) -> T:
    if part is None:
        raise RuntimeError(f"Paperboy's {name} is not built yet: start the application first")
    return part


async def open_database(settings: Settings) -> Database:
    db = await Database.connect(settings.resolved_database_url)
    await db.upgrade()
    return db


async def serve_web(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner

"""The storage entry point: one `Database` per process, holding the engine and the repositories."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Connection, Engine, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine

from bot.errors import StoreUnavailable
from storage.channels import ChannelRepository
from storage.deliveries import DeliveryRepository
from storage.followups import FollowUpRepository
from storage.health import SourceHealthRepository
from storage.inbound import InboundRepository
from storage.kv import KeyValueRepository
from storage.library import LibraryRepository
from storage.papers import PaperRepository
from storage.replicas import ReplicaRepository
from storage.subscriptions import SubscriptionRepository
from storage.votes import VoteRepository

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
POSTGRES_CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a PostgreSQL connection: an unreachable server is an outage to report, not a hang."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while one writer writes; busy_timeout makes writers queue instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _connect_or_unavailable(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """Connecting failed because the server is down, unreachable, starting up or full: an outage."""
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:  # refused, unreachable, timed out (asyncio's TimeoutError is an OSError)
        raise StoreUnavailable(f"cannot connect to the database ({exc.__class__.__name__})") from exc
    except Exception as exc:
        if type(exc).__name__ in _TRANSIENT_AT_CONNECT:
            raise StoreUnavailable(f"the database is not accepting connections ({type(exc).__name__})") from exc
        raise


# asyncpg's names for a server that is up but cannot take a connection right now.
_TRANSIENT_AT_CONNECT = frozenset({"CannotConnectNowError", "TooManyConnectionsError"})


def _error_or_unavailable(context: ExceptionContext) -> None:
    """A connection lost mid-operation, or SQLite busy past its timeout: an outage, not a bug."""
    original = context.original_exception
    if isinstance(original, asyncio.CancelledError):
        return  # a task being cancelled (a stop), not the database going away
    if context.is_disconnect:
        raise StoreUnavailable(f"lost the database connection ({type(original).__name__})") from original
    if isinstance(original, OSError):
        raise StoreUnavailable(f"database connection failed ({type(original).__name__})") from original
    if "database is locked" in str(original):
        raise StoreUnavailable("the database is busy (SQLite: database is locked)") from original


def _sync_engine(url: str) -> Engine | None:
    """A synchronous engine on the same SQLite file, for work done in one worker-thread hop: searches
    (`PaperRepository.searching`) and the inbound log that every command and event passes
    (`InboundRepository.first_time`).

    A search runs a handful of statements whose answers decide the next; through aiosqlite each costs a
    hop to its thread and back (about 0.7 ms, most of a search at a million papers). In a worker thread
    on a plain sqlite3 connection it costs microseconds. The inbound log's insert and commit cost three
    hops (0.42 ms of CPU a command, measured) through aiosqlite and one (0.16 ms) here. Same pragmas
    (WAL: it reads beside the writer; busy_timeout: it queues behind it) and the same outage errors.
    None for an in-memory database, which a second connection cannot see.
    """
    parsed = make_url(url)
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:") or "mode=memory" in url:
        return None
    sync = create_engine(parsed.set(drivername="sqlite"), connect_args={"check_same_thread": False})
    event.listen(sync, "connect", _sqlite_pragmas)
    event.listen(sync, "do_connect", _connect_or_unavailable)
    event.listen(sync, "handle_error", _error_or_unavailable)
    return sync


def _make_parent_dir(database: str) -> None:
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock`, the same in every replica."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (`postgres://`, `postgresql://`, `sqlite:///`) and pick async drivers.

    The same rule as `bot.config.normalise_database_url`, repeated so storage does not depend on settings.
    """
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class AdvisoryLock:
    """`async with db.advisory_lock("ingest") as acquired:` (awaiting it first works too).

    Postgres: a session-level `pg_try_advisory_lock` on a connection held for the whole block, released
    at the end. SQLite has one process per database, so the lock is always acquired.
    """

    def __init__(self, db: Database, name: str) -> None:
        self._db = db
        self._name = name
        self._conn: AsyncConnection | None = None
        self._acquired = False

    def __await__(self) -> Any:
        async def _self() -> AdvisoryLock:
            return self

        return _self().__await__()

    async def __aenter__(self) -> bool:
        if self._db.dialect != "postgresql":
            self._acquired = True
            return True
        conn = await self._db.engine.connect()
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            result = await conn.execute(select(func.pg_try_advisory_lock(advisory_key(self._name))))
            self._acquired = bool(result.scalar_one())
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        return self._acquired

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if self._acquired:
                await conn.execute(select(func.pg_advisory_unlock(advisory_key(self._name))))
        finally:
            await conn.close()


class Database:
    """Engine, repositories and migrations. Build with `await Database.connect(url)`."""

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self.engine = engine
        self.url = url
        self.dialect: str = engine.dialect.name
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.sync_engine = _sync_engine(url) if self.dialect == "sqlite" else None
        self.papers = PaperRepository(sessions, self.dialect, self.sync_engine)
        # The repositories a digest fan-out runs through on every channel use Core on connections.
        self.channels = ChannelRepository(engine, self.dialect)
        self.subscriptions = SubscriptionRepository(engine, self.dialect)
        self.deliveries = DeliveryRepository(engine, self.dialect)
        self.replicas = ReplicaRepository(engine, self.dialect)
        self.followups = FollowUpRepository(engine, self.dialect)
        self.votes = VoteRepository(engine, self.dialect)
        self.library = LibraryRepository(engine, self.dialect)
        self.sources = SourceHealthRepository(sessions, self.dialect)
        self.kv = KeyValueRepository(sessions, self.dialect)
        self.inbound = InboundRepository(engine, self.dialect, sync_engine=self.sync_engine)

    @classmethod
    async def connect(cls, url: str, *, schema: str | None = None) -> Database:
        """Open `url` (an async SQLAlchemy URL; plain sqlite:// and postgresql:// are upgraded).

        For SQLite the database file's folder is created. `schema` (Postgres only) sets the search_path,
        e.g. to give each test its own schema.
        """
        url = normalise_database_url(url)
        parsed = make_url(url)
        connect_args: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                await asyncio.to_thread(_make_parent_dir, database)
        else:
            connect_args["timeout"] = POSTGRES_CONNECT_TIMEOUT
            if schema is not None:
                connect_args["server_settings"] = {"search_path": schema}
        # Pre-ping only where connections can go stale (a server restart); a SQLite file cannot.
        is_sqlite = parsed.get_backend_name() == "sqlite"
        engine = create_async_engine(url, connect_args=connect_args, pool_pre_ping=not is_sqlite)
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        # Outages reach callers as one error the core knows (`bot.errors.StoreUnavailable`), whichever
        # driver and whichever moment (connecting, or a connection lost mid-statement).
        event.listen(engine.sync_engine, "do_connect", _connect_or_unavailable)
        event.listen(engine.sync_engine, "handle_error", _error_or_unavailable)
        return cls(engine, url)

    async def upgrade(self) -> Upgrade:
        """Apply every Alembic migration not yet applied (a no-op when up to date), and say which ran."""
        async with self.engine.begin() as conn:
            return await conn.run_sync(_upgrade_head)

    async def close(self) -> None:
        await self.engine.dispose()
        if self.sync_engine is not None:
            self.sync_engine.dispose()

    async def ping(self) -> bool:
        """Whether the database answers (readiness probes call this often: it does not log)."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (StoreUnavailable, OSError):
            return False
        return True

    def advisory_lock(self, name: str) -> AdvisoryLock:
        return AdvisoryLock(self, name)


def alembic_config() -> Config:
    """Alembic's configuration built in code: works from any working directory and from a wheel."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("storage") / "migrations"))
    return cfg


@dataclass(frozen=True)
class Upgrade:
    """What `Database.upgrade` did: the revisions applied, oldest first, and the revision now current."""

    revisions: tuple[str, ...]
    head: str


def _current(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def _upgrade_head(connection: Connection) -> Upgrade:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    before = _current(connection)
    command.upgrade(cfg, "head")
    after = _current(connection)
    script = ScriptDirectory.from_config(cfg)
    # Everything reachable from the new heads down to (not including) the old ones: what this call ran.
    ran = [rev.revision for rev in script.iterate_revisions(after, before or "base") if rev is not None]
    return Upgrade(tuple(reversed(ran)), ", ".join(after) or "base")

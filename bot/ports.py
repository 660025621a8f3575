"""The core's ports: what it needs from the outside world, as protocols it owns.

The core never imports an adapter, the storage layer or the application; the application
(`paperboy.app`) builds the parts that satisfy these protocols and plugs them in. `storage.Database`
is a `Store`, each chat adapter a `ChatAdapter`, `bot.sources.hf.HfDailyPapers` a `RemotePapers`.
mypy checks the fit where the application plugs them in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol, TypeVar

from bot.types import (
    BlockHit,
    Channel,
    ChannelRef,
    ChannelSettings,
    CommandInvocation,
    CommandSpec,
    Delivery,
    DeliveryKind,
    FollowUpDue,
    HitRange,
    LibraryEntry,
    LibraryVia,
    Message,
    Paper,
    Platform,
    Reading,
    Replica,
    SearchBlock,
    SearchWindow,
    SeedHits,
    SourceHealth,
    Subscription,
    UpsertResult,
    Vote,
)

# ---------------------------------------------------------------------------------------------
# Chat platforms

OnCommand = Callable[[CommandInvocation], Awaitable[Sequence[Message]]]
"""Runs one invocation and returns the replies, in order. Never raises for user errors."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One value offered while a user types a parameter (Discord autocomplete)."""

    label: str
    value: str


class InboundLog(Protocol):
    """Which inbound platform events were taken already (`bot.inbound`), shared by every replica."""

    async def first_time(self, source: str, event_id: str, *, now: datetime) -> bool:
        """Record `event_id` of `source`; True the first time within the retention window, False after."""
        ...


class CommandPort(Protocol):
    """What an adapter serves: the command specs, running an invocation, and value suggestions."""

    def specs(self) -> Sequence[CommandSpec]: ...

    async def handle(self, invocation: CommandInvocation) -> Sequence[Message]: ...

    async def suggest(self, invocation: CommandInvocation, param: str, current: str) -> Sequence[Suggestion]:
        """Values for `param` of `invocation.command` that fit what the user typed so far."""
        ...


@dataclass(frozen=True, slots=True)
class SentMessage:
    """Where a message landed: the platform's id of the first (channel-level) message, then the rest."""

    message_id: str
    extra_ids: tuple[str, ...] = ()


PartRecorder = Callable[[int, str], Awaitable[None]]
"""Called as each part of a delivery lands: (position, the platform's message id)."""


class ChatAdapter(Protocol):
    """One platform connection. Adapters translate inbound events and render outbound messages.

    A message renders to one or more parts, in order: the channel message (position 0), then thread
    replies or follow-ups under it. `send` posts the parts not in `posted` (position -> message id of
    the parts that already landed), in order, under `posted[0]` when that part landed earlier, and calls
    `on_part` as each one lands; it returns when every part is out, or raises
    `bot.errors.RetryableDeliveryError` / `PermanentDeliveryError` at the first part that fails. Each
    part carries the delivery's marker for its position (Slack message metadata, Discord nonce and a
    visible reference), so that `find_parts` can tell, after a crash, which parts already landed.
    """

    @property
    def platform(self) -> Platform: ...

    @property
    def connected(self) -> bool:
        """Whether the platform connection is up (for /readyz)."""
        ...

    async def start(self, core: CommandPort) -> None: ...

    async def stop(self) -> None: ...

    async def send(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        delivery_id: str | None = None,
        posted: Mapping[int, str] | None = None,
        on_part: PartRecorder | None = None,
    ) -> SentMessage: ...

    async def find_parts(
        self,
        channel: ChannelRef,
        delivery_id: str,
        since: datetime,
        posted: Mapping[int, str],
        *,
        under: str | None = None,
    ) -> dict[int, str]:
        """The parts of delivery `delivery_id` found in the channel (and under its first part), by position.

        `posted` holds what is already known (the first part's id tells where the replies are). `under`
        is the message whose thread the delivery was posted in (a follow-up): its parts are looked for there.
        """
        ...


# ---------------------------------------------------------------------------------------------
# Paper sources


class RemotePapers(Protocol):
    """The Hub, when Paperboy is online: looks up papers that are not stored yet."""

    async def paper(self, arxiv_id: str) -> Paper | None: ...

    async def search(self, query: str, limit: int = 20) -> list[Paper]: ...


class DailyPapers(RemotePapers, Protocol):
    """The Daily Papers feed by day (the hourly ingest re-fetches the last few)."""

    async def fetch_day(self, day: date) -> list[Paper]: ...


class NewSubmissions(Protocol):
    """arXiv: the newest papers in some categories (or matching a query)."""

    async def fetch(
        self, *, categories: Sequence[str] = (), query: str | None = None, max_results: int = 100
    ) -> list[Paper]: ...


# ---------------------------------------------------------------------------------------------
# Storage. Repositories return `bot.types` values, never rows.


T = TypeVar("T")


class SearchReads(Protocol):
    """What `bot.search` reads while it walks the blocks, synchronously, on one connection."""

    def seed_hits(self, phrases: Sequence[Sequence[str]], newest: int, most: int, *, title: bool = False) -> SeedHits:
        """The most upvoted of the newest matches (and of the newest with a phrase in the title), or every
        match when there are fewer than `newest`."""
        ...

    def block_hits(self, phrases: Sequence[Sequence[str]], ranges: Sequence[HitRange]) -> list[BlockHit]:
        """The full-text matches of any of `phrases` in `ranges` over their upvote floors, not withdrawn,
        without their abstracts."""
        ...

    def by_seq(self, seqs: Sequence[int]) -> dict[int, Paper]:
        """The papers stored under these `seq`s (missing ones are left out)."""
        ...


class PaperStore(Protocol):
    async def upsert(self, papers: Sequence[Paper], *, seen_at: datetime) -> UpsertResult: ...

    async def get(self, paper_id: str) -> Paper | None: ...

    async def get_many(self, ids: Sequence[str]) -> dict[str, Paper]: ...

    async def count(self) -> int: ...

    async def latest_featured_day(self, on_or_before: date | None = None) -> date | None: ...

    async def featured_on(self, day: date) -> list[Paper]: ...

    async def featured_between(self, start: date, end: date) -> list[Paper]: ...

    async def featured_counts(self, start: date, end: date) -> dict[date, int]: ...

    async def arrived_between(self, start: date, end: date) -> list[Paper]: ...

    async def recent(self, limit: int) -> list[Paper]: ...

    async def corpus(self) -> list[tuple[str, str]]:
        """(id, text) of every paper not withdrawn, title twice (as `bot.similar.paper_text` weighs it)."""
        ...

    async def search_window(self, phrases: Sequence[Sequence[str]], limit: int) -> SearchWindow: ...

    async def search_blocks(self) -> list[SearchBlock]:
        """Every block's ceilings (`bot.search`): a few bytes per 1,024 papers."""
        ...

    async def searching(self, work: Callable[[SearchReads], T]) -> T:
        """Run `work`, a search's synchronous reads, on one connection in one go (no hop per statement)."""
        ...

    async def by_seq(self, seqs: Sequence[int]) -> dict[int, Paper]:
        """The papers stored under these `seq`s (missing ones are left out)."""
        ...

    async def first_upvotes(self, ids: Sequence[str]) -> dict[str, tuple[datetime, int]]: ...

    @property
    def generation(self) -> int:
        """Changes whenever this process writes papers (another replica's writes show within a cache's TTL)."""
        ...


class ChannelStore(Protocol):
    async def get(self, ref: ChannelRef) -> Channel | None: ...

    async def ensure(self, ref: ChannelRef, *, digest_time: time, timezone: str, now: datetime) -> Channel: ...

    async def update(
        self,
        ref: ChannelRef,
        *,
        digest_time: time | None = None,
        timezone: str | None = None,
        digest_enabled: bool | None = None,
        settings: ChannelSettings | None = None,
    ) -> Channel: ...

    async def pause(self, ref: ChannelRef, reason: str) -> None: ...

    async def paused_inboxes(self) -> Mapping[ChannelRef, str]:
        """The paused direct-message channels and why; may lag another replica's pause by seconds."""
        ...

    async def resume(self, ref: ChannelRef) -> None: ...

    async def set_last_digest(self, ref: ChannelRef, at: datetime) -> None: ...

    async def all(self) -> list[Channel]: ...

    async def delete_workspace(self, platform: Platform, workspace_id: str) -> int: ...


class SubscriptionStore(Protocol):
    async def add(
        self, ref: ChannelRef, query: str, *, created_by: str, now: datetime, limit: int
    ) -> Subscription | None:
        """Store a topic, atomically: None when the channel already follows an equal query (the database's
        unique constraint decides, so concurrent identical subscribes store one) or has `limit` topics."""
        ...

    async def list(self, ref: ChannelRef) -> list[Subscription]: ...

    async def get(self, ref: ChannelRef, sub_id: int) -> Subscription | None: ...

    async def find(self, ref: ChannelRef, query: str) -> Subscription | None: ...

    async def set_query(self, ref: ChannelRef, sub_id: int, query: str) -> Subscription | None:
        """Change a topic's query, keeping its id and start; None when unknown or a duplicate."""
        ...

    async def remove(self, ref: ChannelRef, sub_id: int) -> bool: ...

    async def count(self, ref: ChannelRef) -> int: ...


class DeliveryStore(Protocol):
    async def claim(
        self,
        ref: ChannelRef,
        kind: DeliveryKind,
        key: str,
        *,
        claimed_by: str,
        now: datetime,
        paper_ids: Sequence[str] = (),
        content: str | None = None,
    ) -> Delivery | None: ...

    async def reclaim(self, delivery_id: str, *, claimed_by: str, now: datetime) -> Delivery | None:
        """Take over a FAILED claim, or one whose claimer's lease lapsed; None when it is not up for it."""
        ...

    async def get_by_key(self, ref: ChannelRef, kind: DeliveryKind, key: str) -> Delivery | None: ...

    async def mark_sent(self, delivery_id: str, *, message_id: str, now: datetime) -> None: ...

    async def mark_failed(self, delivery_id: str, *, error: str, now: datetime) -> None: ...

    async def mark_skipped(self, delivery_id: str, *, reason: str, now: datetime) -> None: ...

    async def unfinished(self, *, now: datetime, replica_id: str) -> list[Delivery]: ...

    async def parts(self, delivery_id: str) -> dict[int, str]: ...

    async def record_part(self, delivery_id: str, position: int, message_id: str, *, now: datetime) -> None: ...

    async def held_by(self, delivery_id: str, replica_id: str) -> bool:
        """Whether the delivery is still claimed, by `replica_id` (not taken over, not finished)."""
        ...

    async def last_for_channel(self, ref: ChannelRef, kind: DeliveryKind | None = None) -> Delivery | None:
        """The channel's latest delivery (of `kind`, when given)."""
        ...

    async def posted_paper_ids(self, ref: ChannelRef) -> set[str]: ...


class SourceHealthLog(Protocol):
    async def record_success(self, source: str, *, at: datetime, result: str, note: str | None = None) -> None: ...

    async def set_note(self, source: str, note: str | None) -> None: ...

    async def record_failure(self, source: str, *, at: datetime, error: str) -> None: ...

    async def all(self) -> list[SourceHealth]: ...


class FollowUpStore(Protocol):
    """Papers posted in channels that gained code, models, datasets or Spaces since (`bot.followups`)."""

    async def due(self, *, posted_since: datetime) -> list[FollowUpDue]: ...

    async def posted_since(self, since: datetime) -> list[str]: ...


class LibraryStore(Protocol):
    """A channel's saved and shared papers (`bot.features.library`); scoped to the one channel asked about."""

    async def add(self, ref: ChannelRef, paper_id: str, *, by: str, at: datetime, via: LibraryVia) -> bool: ...

    async def remove(self, ref: ChannelRef, paper_id: str) -> bool: ...

    async def entries(self, ref: ChannelRef) -> list[LibraryEntry]: ...

    async def read(self, ref: ChannelRef, paper_id: str, *, who: str, at: datetime) -> bool: ...

    async def present(self, ref: ChannelRef, paper_id: str, *, who: str, day: date, at: datetime) -> Reading | None: ...

    async def readings(self, ref: ChannelRef) -> list[Reading]: ...

    async def talks_between(self, start: date, end: date) -> list[Reading]: ...


class ReplicaStore(Protocol):
    """Leases of the running processes (`bot.leases`)."""

    async def register(self, replica: Replica) -> None: ...

    async def renew(self, replica_id: str, *, now: datetime, expires_at: datetime) -> bool:
        """Extend a lease that is still live at `now`; False when it lapsed or is gone."""
        ...

    async def expire(self, replica_ids: list[str], *, now: datetime) -> None: ...

    async def release(self, replica_id: str) -> None: ...

    async def on_host(self, host: str) -> list[Replica]: ...

    async def live(self, *, now: datetime) -> list[Replica]: ...

    async def forget_lapsed(self, *, before: datetime) -> int: ...


class KeyValueStore(Protocol):
    """A small persistent store for bookkeeping (the Discord command hash, ingest cursors)."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...


class VoteStore(Protocol):
    """Each channel's votes on papers (`storage.votes`); every call is scoped to one channel."""

    async def cast(self, ref: ChannelRef, paper_id: str, user_id: str, value: int, *, now: datetime) -> int:
        """Record a vote (+1/-1); the same vote again takes it back. The user's vote afterwards (0: none)."""
        ...

    async def list(self, ref: ChannelRef) -> list[Vote]: ...

    async def count(self, ref: ChannelRef) -> int: ...

    async def tally(self, ref: ChannelRef) -> dict[str, tuple[int, int]]:
        """(likes, dislikes) per paper voted on in this channel."""
        ...


class Store(Protocol):
    """Everything the core keeps: one database shared by every replica."""

    @property
    def papers(self) -> PaperStore: ...

    @property
    def channels(self) -> ChannelStore: ...

    @property
    def subscriptions(self) -> SubscriptionStore: ...

    @property
    def deliveries(self) -> DeliveryStore: ...

    @property
    def sources(self) -> SourceHealthLog: ...

    @property
    def kv(self) -> KeyValueStore: ...

    @property
    def inbound(self) -> InboundLog: ...

    @property
    def replicas(self) -> ReplicaStore: ...

    @property
    def followups(self) -> FollowUpStore: ...

    @property
    def votes(self) -> VoteStore: ...

    @property
    def library(self) -> LibraryStore: ...

    def advisory_lock(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Held by one replica at a time; entering yields whether this one got it."""
        ...

    async def ping(self) -> bool: ...


# ---------------------------------------------------------------------------------------------
# Scheduling


class ScheduleListener(Protocol):
    """Told when a channel's schedule changes, so the change takes effect without a restart."""

    def channel_changed(self, channel: Channel) -> None: ...

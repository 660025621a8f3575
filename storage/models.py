"""The schema as typed ORM classes. Repositories read and write these and hand out `bot.types` values.

The migrations in `storage/migrations/versions` are the source of truth for the DDL; these classes mirror
them. Two things live only in the migrations: SQLite's external-content FTS5 table `papers_fts` over
`papers` (rowid = `papers.seq`) with its triggers (storage.search), and Postgres's generated
`papers.search_tsv` column with its GIN index.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes in, UTC-aware datetimes out, on every backend.

    SQLite has no timezone type: values are stored as naive UTC text and get their tzinfo back on the way
    out. Naive datetimes are refused on the way in: they are a bug (time is injected and aware).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: storage only accepts timezone-aware datetimes")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), date: Date()}


class PaperRow(Base):
    __tablename__ = "papers"

    # `seq` is an integer key so SQLite's FTS5 table can use it as its rowid (a plain rowid may change on VACUUM).
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSON)
    published_at: Mapped[datetime | None]
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    ai_summary: Mapped[str | None] = mapped_column(Text)
    ai_keywords: Mapped[list[str]] = mapped_column(JSON)
    github_repo: Mapped[str | None] = mapped_column(Text)
    github_stars: Mapped[int | None] = mapped_column(Integer)
    project_page: Mapped[str | None] = mapped_column(Text)
    thumbnail: Mapped[str | None] = mapped_column(Text)
    organization: Mapped[str | None] = mapped_column(Text)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    sources: Mapped[list[str]] = mapped_column(JSON)
    categories: Mapped[list[str]] = mapped_column(JSON)
    # What the Hub links to the paper, and when Paperboy first saw each kind (follow-ups compare it with
    # the paper's post in a channel).
    models: Mapped[list[str]] = mapped_column(JSON, default=list)
    models_total: Mapped[int] = mapped_column(Integer, default=0)
    datasets: Mapped[list[str]] = mapped_column(JSON, default=list)
    datasets_total: Mapped[int] = mapped_column(Integer, default=0)
    spaces: Mapped[list[str]] = mapped_column(JSON, default=list)
    spaces_total: Mapped[int] = mapped_column(Integer, default=0)
    code_seen_at: Mapped[datetime | None]
    models_seen_at: Mapped[datetime | None]
    datasets_seen_at: Mapped[datetime | None]
    spaces_seen_at: Mapped[datetime | None]
    # Derived, kept for queries: first featured day, and the arrival day (first featured day, else the
    # published date) that `recent` and `arrived_between` use.
    first_featured: Mapped[date | None]
    arrival_day: Mapped[date | None] = mapped_column(Date, index=True)
    # Search text (also feeds Postgres's generated tsvector): authors and keywords as text, and the
    # hyphen-joined forms of hyphenated words ("bi-level" -> "bilevel").
    authors_text: Mapped[str] = mapped_column(Text, default="")
    keywords_text: Mapped[str] = mapped_column(Text, default="")
    joined_text: Mapped[str] = mapped_column(Text, default="")
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("id", name="uq_papers_id"),
        # Search reads a match's upvotes and day through this, never its text (0009_search_blocks).
        Index("ix_papers_rank", "seq", "upvotes", "arrival_day", "withdrawn"),
    )


class PaperBlockRow(Base):
    """Ceilings of the papers with `seq // SEARCH_BLOCK == block`, raised by triggers (0009_search_blocks)."""

    __tablename__ = "paper_blocks"

    block: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    max_upvotes: Mapped[int] = mapped_column(Integer)
    max_day: Mapped[date | None]


class PaperDayRow(Base):
    __tablename__ = "paper_days"

    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)

    __table_args__ = (Index("ix_paper_days_day", "day"),)


class UpvoteSampleRow(Base):
    __tablename__ = "upvote_samples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    upvotes: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_upvote_samples_paper_at", "paper_id", "at"),)


class ChannelRow(Base):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(128))
    channel_id: Mapped[str] = mapped_column(String(128))
    digest_time: Mapped[str] = mapped_column(String(5))  # "HH:MM"
    timezone: Mapped[str] = mapped_column(String(64))
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    max_papers: Mapped[int] = mapped_column(Integer, default=10)
    min_upvotes: Mapped[int] = mapped_column(Integer, default=0)
    trending: Mapped[bool] = mapped_column(Boolean, default=True)
    weekends: Mapped[bool] = mapped_column(Boolean, default=True)
    empty: Mapped[bool] = mapped_column(Boolean, default=False)
    followups: Mapped[bool] = mapped_column(Boolean, default=True)
    rising: Mapped[bool] = mapped_column(Boolean, default=True)
    weekly_day: Mapped[int | None] = mapped_column(Integer)
    threads: Mapped[bool] = mapped_column(Boolean, default=False)
    learning: Mapped[bool | None] = mapped_column(Boolean)
    learn_trending: Mapped[bool] = mapped_column(Boolean, default=False)
    votes_shown: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    last_digest_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("platform", "workspace_id", "channel_id", name="uq_channels_ref"),)


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_pk: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    query: Mapped[str] = mapped_column(Text)
    query_normalised: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    parser_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    # One topic per channel and normalised query: concurrent identical subscribes store one (0002).
    __table_args__ = (Index("uq_subscriptions_channel_query", "channel_pk", "query_normalised", unique=True),)


class VoteRow(Base):
    """One user's vote on one paper in one channel (0004): +1 like, -1 dislike; no row, no vote."""

    __tablename__ = "votes"

    channel_pk: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    voted_at: Mapped[datetime]


class DeliveryRow(Base):
    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_pk: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(128), default="")
    message_id: Mapped[str | None] = mapped_column(String(128))
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    paper_ids: Mapped[list[str]] = mapped_column(JSON)
    content: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("channel_pk", "kind", "key", name="uq_deliveries_channel_kind_key"),
        Index("ix_deliveries_state_claimed_at", "state", "claimed_at"),
        Index("ix_deliveries_channel_claimed_at", "channel_pk", "claimed_at"),
    )


class DeliveryPartRow(Base):
    __tablename__ = "delivery_parts"

    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128))
    posted_at: Mapped[datetime]


class LibraryRow(Base):
    """A paper in a channel's library (0008_library): saved with a command or a button, or shared as a link."""

    __tablename__ = "library"

    channel_pk: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[datetime]
    via: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index("ix_library_channel_added_at", "channel_pk", "added_at"),)


class ReadingRow(Base):
    """Who in a channel reads a paper, or presents it on `day` (0008_library)."""

    __tablename__ = "reading"

    channel_pk: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    who: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date | None] = mapped_column(Date, index=True)
    at: Mapped[datetime]


class ReplicaRow(Base):
    __tablename__ = "replicas"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    renewed_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PostedPaperRow(Base):
    __tablename__ = "posted_papers"

    channel_pk: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    delivery_id: Mapped[str | None] = mapped_column(String(32))
    posted_at: Mapped[datetime]


class SourceHealthRow(Base):
    __tablename__ = "source_health"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_result: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class InboundEventRow(Base):
    """An inbound platform event already taken (a Slack event id or signature, a Discord interaction id)."""

    __tablename__ = "inbound_events"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime]

    __table_args__ = (Index("ix_inbound_events_seen_at", "seen_at"),)


class KeyValueRow(Base):
    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

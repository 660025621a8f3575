"""Initial schema: papers (+ full-text search), channels, subscriptions, deliveries, health, kv.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "papers",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("authors", sa.JSON, nullable=False),
        sa.Column("published_at", _TS, nullable=True),
        sa.Column("upvotes", sa.Integer, nullable=False),
        sa.Column("comments", sa.Integer, nullable=False),
        sa.Column("ai_summary", sa.Text, nullable=True),
        sa.Column("ai_keywords", sa.JSON, nullable=False),
        sa.Column("github_repo", sa.Text, nullable=True),
        sa.Column("github_stars", sa.Integer, nullable=True),
        sa.Column("project_page", sa.Text, nullable=True),
        sa.Column("thumbnail", sa.Text, nullable=True),
        sa.Column("organization", sa.Text, nullable=True),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("first_featured", sa.Date, nullable=True),
        sa.Column("arrival_day", sa.Date, nullable=True),
        sa.Column("authors_text", sa.Text, nullable=False),
        sa.Column("keywords_text", sa.Text, nullable=False),
        sa.Column("joined_text", sa.Text, nullable=False),
        sa.Column("first_seen_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.UniqueConstraint("id", name="uq_papers_id"),
    )
    op.create_index("ix_papers_arrival_day", "papers", ["arrival_day"])

    op.create_table(
        "paper_days",
        sa.Column("paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
    )
    op.create_index("ix_paper_days_day", "paper_days", ["day"])

    op.create_table(
        "upvote_samples",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("upvotes", sa.Integer, nullable=False),
    )
    op.create_index("ix_upvote_samples_paper_at", "upvote_samples", ["paper_id", "at"])

    op.create_table(
        "channels",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("workspace_id", sa.String(128), nullable=False),
        sa.Column("channel_id", sa.String(128), nullable=False),
        sa.Column("digest_time", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("digest_enabled", sa.Boolean, nullable=False),
        sa.Column("max_papers", sa.Integer, nullable=False),
        sa.Column("min_upvotes", sa.Integer, nullable=False),
        sa.Column("trending", sa.Boolean, nullable=False),
        sa.Column("weekends", sa.Boolean, nullable=False),
        sa.Column("empty", sa.Boolean, nullable=False),
        sa.Column("paused_reason", sa.Text, nullable=True),
        sa.Column("last_digest_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("platform", "workspace_id", "channel_id", name="uq_channels_ref"),
    )

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel_pk", sa.Integer, sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("query_normalised", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("parser_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_subscriptions_channel_pk", "subscriptions", ["channel_pk"])

    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("channel_pk", sa.Integer, sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claimed_at", _TS, nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("paper_ids", sa.JSON, nullable=False),
        sa.UniqueConstraint("channel_pk", "kind", "key", name="uq_deliveries_channel_kind_key"),
    )
    op.create_index("ix_deliveries_state_claimed_at", "deliveries", ["state", "claimed_at"])
    op.create_index("ix_deliveries_channel_claimed_at", "deliveries", ["channel_pk", "claimed_at"])

    op.create_table(
        "posted_papers",
        sa.Column("channel_pk", sa.Integer, sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("paper_id", sa.String(64), primary_key=True),
        sa.Column("delivery_id", sa.String(32), nullable=True),
        sa.Column("posted_at", _TS, nullable=False),
    )

    op.create_table(
        "source_health",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("last_success_at", _TS, nullable=True),
        sa.Column("last_error_at", _TS, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_result", sa.Text, nullable=True),
    )

    op.create_table(
        "kv",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # Column order matters: bm25() weights are positional (title, abstract, keywords, authors, joined).
        op.execute(
            "CREATE VIRTUAL TABLE papers_fts USING fts5("
            "title, abstract, keywords, authors, joined, "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
    elif dialect == "postgresql":
        op.execute(
            "ALTER TABLE papers ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english'::regconfig, coalesce(keywords_text, '')), 'B') || "
            "setweight(to_tsvector('english'::regconfig, coalesce(authors_text, '')), 'C') || "
            "setweight(to_tsvector('english'::regconfig, coalesce(joined_text, '')), 'C') || "
            "setweight(to_tsvector('english'::regconfig, coalesce(abstract, '')), 'D')"
            ") STORED"
        )
        op.execute("CREATE INDEX ix_papers_search_tsv ON papers USING gin (search_tsv)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS papers_fts")
    for table in (
        "kv",
        "source_health",
        "posted_papers",
        "deliveries",
        "subscriptions",
        "channels",
        "upvote_samples",
        "paper_days",
        "papers",
    ):
        op.drop_table(table)

"""Hostile input: one topic per channel and normalised query; the inbound event log.

- `subscriptions`: duplicates (same channel, same normalised query, left by concurrent subscribes) are
  removed, keeping the oldest, then a unique index makes the database refuse the next ones.
- `inbound_events`: the Slack event ids and request signatures, and Discord interaction ids, already
  taken, so a retry or a replay never runs a command twice (`bot.inbound`).

Revision ID: 0002_hostile_input
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_hostile_input"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The oldest topic of each (channel, normalised query) stays: its id is the one users were shown first.
    op.execute(
        "DELETE FROM subscriptions WHERE id NOT IN "
        "(SELECT keep FROM (SELECT MIN(id) AS keep FROM subscriptions GROUP BY channel_pk, query_normalised) AS kept)"
    )
    op.create_index("uq_subscriptions_channel_query", "subscriptions", ["channel_pk", "query_normalised"], unique=True)

    op.create_table(
        "inbound_events",
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_inbound_events_seen_at", "inbound_events", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_inbound_events_seen_at", table_name="inbound_events")
    op.drop_table("inbound_events")
    op.drop_index("uq_subscriptions_channel_query", table_name="subscriptions")

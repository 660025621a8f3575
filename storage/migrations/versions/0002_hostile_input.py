"""Hostile input: one topic per channel and normalised query; the inbound event log.

- `subscriptions`: duplicates (same channel, same normalised query, left by concurrent subscribes) are
  removed, keeping the oldest, then a unique index makes the database refuse the next ones.
- `inbound_events`: the Slack event ids and request signatures, and Discord interaction ids, already
  taken, so a retry or a replay never runs a command twice (`bot.inbound`).
- slack_sdk's installation tables, where they exist: their token columns become text on PostgreSQL, as
  sealed tokens (`adapters.slack.installations`) are longer than the 200 characters slack_sdk gives them.
  The tokens themselves are sealed by Paperboy at start (they need the key, which a migration has not).

Revision ID: 0002_hostile_input
Revises: 0002_leases_and_parts
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_hostile_input"
down_revision: str | None = "0002_leases_and_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# slack_sdk's tables (created by its installation store, not by these migrations) and their secrets.
_TOKEN_COLUMNS = {
    "slack_installations": (
        "bot_token",
        "bot_refresh_token",
        "user_token",
        "user_refresh_token",
        "incoming_webhook_url",
    ),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}


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

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # SQLite does not enforce a VARCHAR's length
        present = set(sa.inspect(bind).get_table_names())
        for table, columns in _TOKEN_COLUMNS.items():
            if table in present:
                for column in columns:
                    op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(200))


def downgrade() -> None:
    # The token columns stay text: the sealed tokens in them would not fit 200 characters.
    op.drop_index("ix_inbound_events_seen_at", table_name="inbound_events")
    op.drop_table("inbound_events")
    op.drop_index("uq_subscriptions_channel_query", table_name="subscriptions")

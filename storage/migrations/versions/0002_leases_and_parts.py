"""Replica leases, resumable multi-part deliveries, and what a source's latest fetch looked like.

- `replicas`: one row per running process, renewed every few seconds; a claim whose claimer's lease
  lapsed is taken over (liveness, not age).
- `delivery_parts`: each part of a delivery (the channel message, thread replies, follow-ups) as it
  lands, so recovery posts only what is missing, in order, under the right parent.
- `deliveries.content`: what the delivery shows (a digest's entries and their counts at claim time),
  so a takeover re-posts the same digest, not one rebuilt after the data moved on.
- `source_health.note`: a stale, partial or empty feed, explained in `status` and digests.

Revision ID: 0002_leases_and_parts
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_leases_and_parts"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "replicas",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("renewed_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
    )
    op.create_index("ix_replicas_expires_at", "replicas", ["expires_at"])
    op.create_table(
        "delivery_parts",
        sa.Column("delivery_id", sa.String(32), sa.ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("posted_at", _TS, nullable=False),
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("content", sa.Text, nullable=True))
    with op.batch_alter_table("source_health") as batch:
        batch.add_column(sa.Column("note", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_health") as batch:
        batch.drop_column("note")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("content")
    op.drop_table("delivery_parts")
    op.drop_index("ix_replicas_expires_at", table_name="replicas")
    op.drop_table("replicas")

"""What a paper released after it was posted, and the channel settings that follow it.

- `papers.models`, `datasets`, `spaces` (the first few names the Hub links, JSON) and their totals;
- `papers.<kind>_seen_at`: when Paperboy first saw the paper with code, a model, a dataset, a Space.
  A channel gets a follow-up when that is later than the paper's post there. Papers already stored with
  code get the time they were first seen: nothing posted before this migration is followed up for it;
- `channels.followups`, `rising` (both on) and `weekly_day` (off).

Revision ID: 0003_followups
Revises: 0002_hostile_input
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_followups"
down_revision: str | None = "0002_hostile_input"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
KINDS = ("code", "models", "datasets", "spaces")


def upgrade() -> None:
    # Plain ADD COLUMN on both backends: a batch (copy-and-move) rebuild of `channels` on SQLite would
    # drop the old table, and with foreign keys on, that deletes every channel's topics and deliveries.
    for name in ("models", "datasets", "spaces"):
        op.add_column("papers", sa.Column(name, sa.JSON, nullable=False, server_default="[]"))
        op.add_column("papers", sa.Column(f"{name}_total", sa.Integer, nullable=False, server_default="0"))
    for kind in KINDS:
        op.add_column("papers", sa.Column(f"{kind}_seen_at", _TS, nullable=True))
    op.execute("UPDATE papers SET code_seen_at = first_seen_at WHERE github_repo IS NOT NULL")
    op.add_column("channels", sa.Column("followups", sa.Boolean, nullable=False, server_default=sa.true()))
    op.add_column("channels", sa.Column("rising", sa.Boolean, nullable=False, server_default=sa.true()))
    op.add_column("channels", sa.Column("weekly_day", sa.Integer, nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+, PostgreSQL), for the reason above.
    for name in ("weekly_day", "rising", "followups"):
        op.execute(f"ALTER TABLE channels DROP COLUMN {name}")
    columns = [f"{kind}_seen_at" for kind in KINDS]
    columns += [c for name in ("spaces", "datasets", "models") for c in (f"{name}_total", name)]
    for column in columns:
        op.execute(f"ALTER TABLE papers DROP COLUMN {column}")

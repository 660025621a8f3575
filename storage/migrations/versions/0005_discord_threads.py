"""`channels.threads`: open a discussion thread on each digest (Discord text and announcement channels).

Off for every existing channel: nothing changes until a channel asks with `settings threads on`.

Revision ID: 0005_discord_threads
Revises: 0004_fold_names
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_discord_threads"
down_revision: str | None = "0004_fold_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of `channels` on SQLite would cascade-delete its topics and deliveries.
    op.add_column("channels", sa.Column("threads", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.execute("ALTER TABLE channels DROP COLUMN threads")

"""Feedback: each channel's votes on papers, and the channel settings that decide what they change.

- `votes`: one row per (channel, paper, user), +1 like or -1 dislike; taking a vote back deletes it.
  Keyed by the channel's row, so a channel's votes never reach another channel and go with it;
- `channels.learning` (NULL: on once the channel has enough votes), `learn_trending` (off) and
  `votes_shown` (off).

Revision ID: 0007_votes
Revises: 0006_search_external_content
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_votes"
down_revision: str | None = "0006_search_external_content"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "votes",
        sa.Column("channel_pk", sa.Integer, sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("paper_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Plain ADD COLUMN on both backends: a batch rebuild of `channels` on SQLite would cascade-delete rows.
    op.add_column("channels", sa.Column("learning", sa.Boolean, nullable=True))
    op.add_column("channels", sa.Column("learn_trending", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("channels", sa.Column("votes_shown", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for name in ("votes_shown", "learn_trending", "learning"):
        op.execute(f"ALTER TABLE channels DROP COLUMN {name}")
    op.drop_table("votes")

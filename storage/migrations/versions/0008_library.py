"""A channel's library: the papers it saved or shared as links, with who brought each in and when;
and its reading: who reads which paper, who presents which at journal club, and on what day.

Revision ID: 0008_library
Revises: 0007_votes
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_library"
down_revision: str | None = "0007_votes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new table only: no existing table is rebuilt, so no row of another table can be lost.
    op.create_table(
        "library",
        sa.Column("channel_pk", sa.Integer, sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("paper_id", sa.String(64), primary_key=True),
        sa.Column("added_by", sa.String(128), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
    )
    op.create_index("ix_library_channel_added_at", "library", ["channel_pk", "added_at"])
    op.create_table(
        "reading",
        sa.Column("channel_pk", sa.Integer, sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("paper_id", sa.String(64), primary_key=True),
        sa.Column("who", sa.String(128), primary_key=True),
        sa.Column("role", sa.String(16), primary_key=True),
        sa.Column("day", sa.Date, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_reading_day", "reading", ["day"])


def downgrade() -> None:
    op.drop_index("ix_reading_day", table_name="reading")
    op.drop_table("reading")
    op.drop_index("ix_library_channel_added_at", table_name="library")
    op.drop_table("library")

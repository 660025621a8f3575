"""Per-block ceilings for search: the most upvotes and the newest arrival day of every 1,024 papers.

`bot.search` visits the papers matching a query block by block (a block is `seq // 1024`), best ceiling
first, and stops when no paper left in any unvisited block can beat the k-th result (issue 16). A
block's ceiling needs only its largest upvote count and its newest arrival day: `paper_blocks` keeps
them. Triggers on `papers` raise them inside the same transaction as the write, so a crash leaves both or
neither; they never lower them (a paper losing upvotes leaves a ceiling that is still a ceiling, only a
looser one). `ix_papers_rank` lets the search read a match's upvotes and day without reading its text.

Revision ID: 0009_search_blocks
Revises: 0008_library
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_search_blocks"
down_revision: str | None = "0008_library"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 1024 below must equal bot.types.SEARCH_BLOCK (a migration keeps its own copy: it must not change later).

_SQLITE_RAISE = (
    "INSERT INTO paper_blocks (block, max_upvotes, max_day) VALUES (new.seq / 1024, new.upvotes, new.arrival_day) "
    "ON CONFLICT (block) DO UPDATE SET max_upvotes = max(max_upvotes, excluded.max_upvotes), "
    "max_day = CASE WHEN max_day IS NULL OR excluded.max_day > max_day THEN excluded.max_day ELSE max_day END;"
)

_POSTGRES_FUNCTION = """
CREATE FUNCTION paper_blocks_raise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO paper_blocks (block, max_upvotes, max_day)
    VALUES (NEW.seq / 1024, NEW.upvotes, NEW.arrival_day)
    ON CONFLICT (block) DO UPDATE SET
        max_upvotes = GREATEST(paper_blocks.max_upvotes, EXCLUDED.max_upvotes),
        max_day = GREATEST(paper_blocks.max_day, EXCLUDED.max_day);
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "paper_blocks",
        sa.Column("block", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("max_upvotes", sa.Integer, nullable=False),
        sa.Column("max_day", sa.Date, nullable=True),
    )
    op.create_index("ix_papers_rank", "papers", ["seq", "upvotes", "arrival_day", "withdrawn"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE TRIGGER paper_blocks_insert AFTER INSERT ON papers BEGIN {_SQLITE_RAISE} END")
        op.execute(
            "CREATE TRIGGER paper_blocks_update AFTER UPDATE OF upvotes, arrival_day ON papers "
            "WHEN new.upvotes > old.upvotes OR new.arrival_day IS NOT old.arrival_day "
            f"BEGIN {_SQLITE_RAISE} END"
        )
    else:
        op.execute(_POSTGRES_FUNCTION)
        op.execute(
            "CREATE TRIGGER paper_blocks_raise AFTER INSERT OR UPDATE OF upvotes, arrival_day ON papers "
            "FOR EACH ROW EXECUTE FUNCTION paper_blocks_raise()"
        )
    # GREATEST/max ignore NULL days on both backends, as the triggers do.
    op.execute(
        "INSERT INTO paper_blocks (block, max_upvotes, max_day) "
        "SELECT seq / 1024, max(upvotes), max(arrival_day) FROM papers GROUP BY seq / 1024"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS paper_blocks_insert")
        op.execute("DROP TRIGGER IF EXISTS paper_blocks_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS paper_blocks_raise ON papers")
        op.execute("DROP FUNCTION IF EXISTS paper_blocks_raise()")
    op.drop_index("ix_papers_rank", table_name="papers")
    op.drop_table("paper_blocks")

"""The SQLite full-text index keeps no second copy of the text: external content over `papers`.

`papers_fts` was a contentful FTS5 table: every title, abstract, keyword, author list and joined form
stored twice (40% of the database). It becomes an external-content table reading `papers` (same
columns' text, same tokenizer, same bm25 weights, rowid = `papers.seq`), kept in step by triggers, and is
rebuilt from `papers` here. Postgres has no such table (its tsvector is a generated column): nothing to do.

Revision ID: 0006_search_external_content
Revises: 0005_discord_threads
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from storage.search import FTS_TOKENIZE, drop_search_index_ddl, rebuild_search_index, search_index_ddl

revision: str = "0006_search_external_content"
down_revision: str | None = "0005_discord_threads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in drop_search_index_ddl() + search_index_ddl():
        op.execute(statement)
    rebuild_search_index(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in drop_search_index_ddl():
        op.execute(statement)
    op.execute(
        "CREATE VIRTUAL TABLE papers_fts USING fts5("
        f"title, abstract, keywords, authors, joined, tokenize='{FTS_TOKENIZE}')"
    )
    op.execute(
        "INSERT INTO papers_fts (rowid, title, abstract, keywords, authors, joined) "
        "SELECT seq, title, abstract, keywords_text, authors_text, joined_text FROM papers"
    )

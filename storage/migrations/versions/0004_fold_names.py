"""Index the transliterated forms of stored papers, so `author:lukasz` finds "Łukasz Kaiser".

`papers.joined_text` (and SQLite's `papers_fts.joined`; Postgres's generated `search_tsv` follows the
column) gains the transliterated form of every title, abstract, keyword list and author list that has
letters accent stripping leaves alone (ł, ø, đ, æ, œ, ı, other scripts). Only those rows are rewritten;
every row is kept. Downgrade leaves the extra forms (harmless: more words indexed, none lost).

Revision ID: 0004_fold_names
Revises: 0003_followups
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.papers import extra_forms

revision: str = "0004_fold_names"
down_revision: str | None = "0003_followups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000
logger = logging.getLogger("storage.migrations.fold_names")


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):  # SQLite hands JSON columns back as text in raw SQL
        value = json.loads(value)
    return [str(v) for v in value or ()]


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    last = -1
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT seq, title, abstract, authors, ai_keywords, joined_text FROM papers "
                "WHERE seq > :last ORDER BY seq LIMIT :n"
            ),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            return
        last = rows[-1].seq
        # A line per batch: a long re-index shows it is moving (and the crash test knows when it is mid-way).
        logger.info("0004_fold_names: re-indexing papers up to #%d", last)
        changed: list[dict[str, Any]] = []
        for row in rows:
            title, abstract = row.title or "", row.abstract or ""
            keywords = " ; ".join(_as_list(row.ai_keywords))
            authors = ", ".join(_as_list(row.authors))
            if (title + abstract + keywords + authors).isascii():
                continue
            joined = extra_forms(title, abstract, keywords, authors)
            if joined != (row.joined_text or ""):
                changed.append({"seq": row.seq, "joined": joined})
        if changed:
            bind.execute(sa.text("UPDATE papers SET joined_text = :joined WHERE seq = :seq"), changed)
            if sqlite:
                bind.execute(sa.text("UPDATE papers_fts SET joined = :joined WHERE rowid = :seq"), changed)


def downgrade() -> None:
    pass

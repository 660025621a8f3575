"""Full-text search text: what goes into the index, and match expressions that user text cannot escape.

Queries arrive as phrases (sequences of lowercase words, a one-word phrase being a term), already parsed
by the topic query language. Nothing here ever splices user text into query syntax: on SQLite every word
becomes an FTS5 string literal, on Postgres every phrase is a bound parameter of `phraseto_tsquery`.

The SQLite index is an external-content FTS5 table over `papers` (rowid = `papers.seq`): it keeps only
the inverted index, and reads the text from `papers` when it needs it, instead of a second full copy of
every title and abstract (411 MB of a 1.02 GB database at 100,000 papers). Triggers on `papers` keep it in
step inside the same transaction, so a crash leaves both or neither; `rebuild_search_index` rebuilds it
from `papers` alone, for migrations that change what is indexed or how (a tokenizer, a text folding).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from bot.textnorm import transliterated, views

# A word with at least one hyphen (ASCII or Unicode hyphens) between word characters.
# Possessive quantifiers: no backtracking through every plain word of an abstract.
_WORDISH = re.compile(r"\w")

# bm25 weights, positional: title, abstract, keywords, authors, joined.
FTS_WEIGHTS = (10.0, 1.0, 4.0, 2.0, 3.0)
# The indexed `papers` columns, in the order of FTS_WEIGHTS (external content reads them by name).
FTS_COLUMNS = ("title", "abstract", "keywords_text", "authors_text", "joined_text")
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"


def _cols(prefix: str = "") -> str:
    return ", ".join(prefix + c for c in FTS_COLUMNS)


def search_index_ddl() -> list[str]:
    """SQLite statements that create the FTS5 index over `papers` and the triggers that maintain it.

    An update re-indexes a paper only when one of its indexed texts changed (`IS NOT`, NULL-safe), so an
    upvote refresh costs no index work. A 'delete' must name the text that was indexed: the trigger takes
    it from `old`, the row as it was, never from Python's idea of it.
    """
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in FTS_COLUMNS)
    # Constant column names only (FTS_COLUMNS): no value is ever spliced in.
    remove = f"INSERT INTO papers_fts (papers_fts, rowid, {_cols()}) VALUES ('delete', old.seq, {_cols('old.')});"  # noqa: S608
    add = f"INSERT INTO papers_fts (rowid, {_cols()}) VALUES (new.seq, {_cols('new.')});"  # noqa: S608
    return [
        f"CREATE VIRTUAL TABLE papers_fts USING fts5({_cols()}, content='papers', content_rowid='seq', "
        f"tokenize='{FTS_TOKENIZE}')",
        f"CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN {add} END",
        f"CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN {remove} END",
        f"CREATE TRIGGER papers_fts_update AFTER UPDATE OF {_cols()} ON papers WHEN {changed} BEGIN {remove} {add} END",
    ]


def drop_search_index_ddl() -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS papers_fts_insert",
        "DROP TRIGGER IF EXISTS papers_fts_delete",
        "DROP TRIGGER IF EXISTS papers_fts_update",
        "DROP TABLE IF EXISTS papers_fts",
    ]


def rebuild_search_index(connection: Any) -> None:
    """Re-index every paper from `papers` (a synchronous SQLAlchemy connection, e.g. `op.get_bind()`).

    The entry point for a migration that changes what the index holds. SQLite: FTS5's 'rebuild' (drops
    the index and reads every row of the content table). Postgres: the tsvector is a generated column,
    recomputed by rewriting the rows' text. Either way one transaction, so a crash leaves the old index.
    """
    from sqlalchemy import text

    if connection.dialect.name == "sqlite":
        connection.execute(text("INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')"))
    elif connection.dialect.name == "postgresql":
        connection.execute(text("UPDATE papers SET title = title"))


def joined_forms(texts: Iterable[str]) -> str:
    """The joined view of each text that has hyphenated compounds: "multi-modal LLMs" -> "multimodal llms".

    Indexed next to the text so that a query for "bilevel", or a phrase like "multimodal llm" (which
    the matcher accepts through the same joined view, `bot.textnorm.views`), finds the hyphenated
    form: `bot.query.candidate_phrases` must stay a guarantee for the full-text prefilter.
    """
    out: list[str] = []
    for text in texts:
        text_views = views(text)
        if len(text_views) > 1:
            out.append(" ".join(text_views[1]))
    return "\n".join(out)


def transliterated_forms(texts: Iterable[str]) -> str:
    """The transliterated form of each text that has letters the index cannot fold ("Łukasz" -> "lukasz").

    Indexed with the joined forms (the same column), so a query folded by `bot.textnorm.fold` finds
    authors and titles in every script the archive holds, on SQLite and Postgres alike.
    """
    return "\n".join(form for form in map(transliterated, texts) if form)


def clean_phrases(phrases: Sequence[Sequence[str]]) -> list[list[str]]:
    """Drop words with nothing indexable in them (`*`, `"`, `:`) and phrases left empty."""
    out: list[list[str]] = []
    for phrase in phrases:
        words = [w for w in phrase if _WORDISH.search(w)]
        if words:
            out.append(words)
    return out


def fts5_quote(word: str) -> str:
    """An FTS5 string literal: the tokenizer sees the text, the query parser sees no operators."""
    return '"' + word.replace('"', '""') + '"'


def fts5_match(phrases: Sequence[Sequence[str]]) -> str | None:
    """`"w1 w2" OR "w3"` for SQLite's MATCH, or None when there is nothing to search for.

    Each phrase is one FTS5 string, which FTS5 treats as a phrase of its tokens; double quotes inside
    a word are doubled, so operators (NEAR, AND, *, ^, column:) in user text are just more text.
    """
    cleaned = clean_phrases(phrases)
    if not cleaned:
        return None
    return " OR ".join(fts5_quote(" ".join(words)) for words in cleaned)

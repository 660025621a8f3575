"""Full-text search text: what goes into the index, and match expressions that user text cannot escape.

Queries arrive as phrases (sequences of lowercase words, a one-word phrase being a term), already parsed
by the topic query language. Nothing here ever splices user text into query syntax: on SQLite every word
becomes an FTS5 string literal, on Postgres every phrase is a bound parameter of `phraseto_tsquery`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.textnorm import transliterated, views

# A word with at least one hyphen (ASCII or Unicode hyphens) between word characters.
# Possessive quantifiers: no backtracking through every plain word of an abstract.
_WORDISH = re.compile(r"\w")

# bm25 weights, positional: title, abstract, keywords, authors, joined.
FTS_WEIGHTS = (10.0, 1.0, 4.0, 2.0, 3.0)


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

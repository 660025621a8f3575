"""Text normalisation shared by the topic query matcher (`bot.query`) and the digest index (`bot.topic_index`).

One function decides what a "word" is, so that a query and a paper are always cut the same way:

* case and accents are folded (`Rényi` = `renyi`), using NFKD and dropping combining marks, then `casefold`;
  letters that do not decompose (`ł`, `ø`, `đ`, `æ`, `œ`, `ı`) and other scripts are transliterated
  (`anyascii`: `Łukasz` = `lukasz`, `Søren` = `soren`, `Đorđe` = `dorde`, `张伟` = `zhangwei`), so a name
  typed on an ASCII keyboard finds its author. Only letters are transliterated: symbols and emoji stay
  what they are (separators), rather than becoming words like `grinning`;
* a word is a run of Unicode letters and digits; everything else (including `_`, `.`, `/`) separates words,
  which is also what SQLite FTS5's `unicode61` tokenizer does, so candidate phrases handed to storage line up;
* a hyphenated compound (`bi-level`, `Mixture-of-Experts`) is seen two ways ("views"): split into its parts
  (`bi level`) and joined into one word (`bilevel`). A text is searched in both views, so `bilevel` finds
  `bi-level` and `"mixture of experts"` finds `Mixture-of-Experts`;
* words are stemmed with the Porter stemmer (the same algorithm as FTS5's `porter` tokenizer), which also
  folds plurals (`experts` = `expert`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer
from anyascii import anyascii

# ASCII hyphen plus the Unicode hyphens that PDF-to-text and chat clients produce. En/em dashes are left out:
# they separate clauses or ranges ("2019–2023"), not the parts of a compound word.
_HYPHENS = "-\u2010\u2011"
_COMPOUND = re.compile(rf"[^\W_]+(?:[{_HYPHENS}][^\W_]+)*")
_PART = re.compile(r"[^\W_]+")

_STEMMER = snowballstemmer.stemmer("porter")


def fold(text: str) -> str:
    """Lowercase, strip accents, transliterate: `Mixture-of-Experts` -> `mixture-of-experts`, `Rényi` ->
    `renyi`, `Łukasz` -> `lukasz`."""
    if text.isascii():  # most paper text: NFKD changes nothing and casefold is lower
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    if not stripped.isascii():
        stripped = "".join(_transliterate(ch) if ch.isalpha() and not ch.isascii() else ch for ch in stripped)
    return stripped.casefold()


@lru_cache(maxsize=1 << 14)
def _transliterate(letter: str) -> str:
    # anyascii gives "" for letters it does not know; keep those as they are (still a word character).
    return anyascii(letter) or letter


def transliterated(text: str) -> str | None:
    """The folded form of `text` when it has letters that accent stripping alone leaves non-ASCII.

    Full-text indexes (SQLite FTS5's `remove_diacritics`, Postgres's `to_tsvector`) strip accents at most;
    storage indexes this form next to the text so that a folded query word (`lukasz`) finds `Łukasz`.
    None for ASCII text and text whose accents are all combining marks (the index already folds those).
    """
    if text.isascii():
        return None
    folded = fold(text)
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return folded if folded != plain else None


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Porter stem of one already-folded word. Cached: the same few thousand words recur in every paper."""
    result: str = _STEMMER.stemWord(word)
    return result


def words(text: str) -> list[str]:
    """The folded words of `text`, hyphenated compounds split into parts (FTS5's view of the text)."""
    return _PART.findall(fold(text))


def views(text: str) -> tuple[tuple[str, ...], ...]:
    """The folded, unstemmed word sequences of `text`: the split view, then the joined view if it differs.

    `"Bi-level optimisation"` -> `(("bi", "level", "optimisation"), ("bilevel", "optimisation"))`.
    """
    split: list[str] = []
    joined: list[str] = []
    has_compound = False
    for compound in _COMPOUND.findall(fold(text)):
        parts = _PART.findall(compound)
        split.extend(parts)
        if len(parts) > 1:
            has_compound = True
            joined.append("".join(parts))
        else:
            joined.extend(parts)
    if has_compound:
        return (tuple(split), tuple(joined))
    return (tuple(split),)


def stemmed_views(text: str) -> tuple[tuple[str, ...], ...]:
    """`views(text)` with every word Porter-stemmed: what the matcher compares."""
    return tuple(tuple(stem(w) for w in view) for view in views(text))


def searchable_text(text: str) -> str:
    """`text` followed by its joined view when it has hyphenated compounds, for a full-text index.

    FTS5 splits `multi-modal LLMs` into `multi modal llms`, so a query phrase `"multimodal llm"` (which the
    matcher accepts through the joined view) would find nothing. Storage should index this string instead
    of the raw text so that `bot.query.candidate_phrases` stays a guarantee. The cost: words of a
    hyphenated text are indexed twice (slightly higher BM25 term frequencies for such texts).
    """
    text_views = views(text)
    if len(text_views) == 1:
        return text
    return text + "\n" + " ".join(text_views[1])


def contains(sequence: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    """True when `phrase` occurs as consecutive words in `sequence`."""
    n = len(phrase)
    if n == 0:
        return False
    if n == 1:
        return phrase[0] in sequence
    first = phrase[0]
    start = 0
    limit = len(sequence) - n
    while start <= limit:
        try:
            i = sequence.index(first, start, limit + 1)
        except ValueError:
            return False
        if sequence[i : i + n] == phrase:
            return True
        start = i + 1
    return False

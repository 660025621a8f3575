"""Ranking for `search` and for choosing what fits in a digest (DESIGN §3).

For each candidate that `bot.query.match` accepts (and is not withdrawn):

    score = 1.0 * relevance            text relevance, normalised to 0..1 within the candidate set
          + 0.5 * title                1 when a positive word/phrase of the query matched in the title
          + 0.1 * log1p(upvotes)       community signal: 10 upvotes ~ +0.24, 100 ~ +0.46, 1000 ~ +0.69
          + 0.5 * 2 ** (-age / 30)     recency, half-life 30 days, age in days from the paper's first
                                       Daily Papers day (else its arXiv published date; no date -> 0)

`relevance` is the BM25 score storage passed in. SQLite FTS5's `bm25()` is negative with lower = better;
if every given score is <= 0 the scores are negated, so either convention works. Relevance is divided by
the best score in the set. When storage has no scores (all 0, e.g. a recent-papers scan for a query
without words), a BM25 (k1 = 1.2, b = 0.75) over the candidates' title, abstract and AI keywords, on the
query's positive words, is computed here instead.

The weights make a title match outrank an abstract-only match of otherwise equal papers, let a paper with
~10x the upvotes climb past a slightly more relevant one, and let a fresh paper beat a months-old one of
similar relevance. Ties break on upvotes, then id, so the order is stable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from bot import textnorm
from bot.query import (
    And,
    Field,
    Node,
    Or,
    Phrase,
    Term,
    TextLeaf,
    TopicQuery,
    analyse,
    compile_leaf,
    match_hits,
    reasons_of,
)
from bot.types import ListedPaper, Paper

RELEVANCE_WEIGHT = 1.0
TITLE_BONUS = 0.5
UPVOTES_WEIGHT = 0.1
RECENCY_WEIGHT = 0.5
HALF_LIFE_DAYS = 30.0
_K1 = 1.2
_B = 0.75


def _positive_stems(node: Node) -> set[str]:
    """Stems of the query's words outside any NOT: what a paper's text relevance is measured on."""
    match node:
        case Term() | Phrase() | Field():
            leaf = compile_leaf(node)
            if isinstance(leaf, TextLeaf):
                return {s for stems, _, _ in leaf.alternatives for s in stems}
            return set()
        case And(children) | Or(children):
            out: set[str] = set()
            for child in children:
                out |= _positive_stems(child)
            return out
        case _:
            return set()


def _own_bm25(query: TopicQuery, papers: Sequence[Paper]) -> list[float]:
    stems = _positive_stems(query.root)
    if not stems or not papers:
        return [0.0] * len(papers)
    docs: list[list[str]] = []
    for paper in papers:
        text = analyse(paper)
        # The split view (first) of each field: counting the joined view too would double-count words.
        doc = [w for field in ("title", "abstract") for w in (text.sequences[field][:1] or [()])[0]]
        doc.extend(textnorm.stem(w) for kw in paper.ai_keywords for w in textnorm.words(kw))
        docs.append(doc)
    n = len(docs)
    avg_len = sum(len(d) for d in docs) / n or 1.0
    df = {s: sum(1 for d in docs if s in d) for s in stems}
    scores = []
    for doc in docs:
        score = 0.0
        for s in stems:
            tf = doc.count(s)
            if tf:
                idf = math.log(1 + (n - df[s] + 0.5) / (df[s] + 0.5))
                score += idf * tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * len(doc) / avg_len))
        scores.append(score)
    return scores


def _age_days(paper: Paper, today: date) -> float | None:
    day = paper.first_featured or (paper.published_at.date() if paper.published_at else None)
    if day is None:
        return None
    return max(0.0, float((today - day).days))


def score(relevance: float, title_match: bool, upvotes: int, age_days: float | None) -> float:
    """The documented formula (module docstring), `relevance` already normalised to 0..1."""
    recency = 0.0 if age_days is None else 2.0 ** (-age_days / HALF_LIFE_DAYS)
    return (
        RELEVANCE_WEIGHT * relevance
        + TITLE_BONUS * (1.0 if title_match else 0.0)
        + UPVOTES_WEIGHT * math.log1p(max(0, upvotes))
        + RECENCY_WEIGHT * recency
    )


def rank(
    query: TopicQuery, candidates: Sequence[tuple[Paper, float]], *, today: date, limit: int
) -> tuple[list[ListedPaper], int]:
    """The best `limit` matching, non-withdrawn candidates with reasons and score, and how many matched."""
    matched: list[tuple[Paper, float, tuple[str, ...], bool]] = []
    for paper, given in candidates:
        if paper.withdrawn:
            continue
        hits = match_hits(query, paper)
        if hits is None:
            continue
        reasons = reasons_of(query, hits)
        matched.append((paper, given, reasons, any(in_title for _, in_title in hits)))
    if not matched:
        return [], 0
    raw = [given for _, given, _, _ in matched]
    if all(r <= 0 for r in raw):
        raw = [-r for r in raw]
    if not any(raw):
        raw = _own_bm25(query, [p for p, _, _, _ in matched])
    best = max(raw)
    relevance = [r / best if best > 0 else 0.0 for r in raw]
    scored = []
    for (paper, _, reasons, title_match), rel in zip(matched, relevance, strict=True):
        value = score(rel, title_match, paper.upvotes, _age_days(paper, today))
        scored.append((value, paper, reasons))
    scored.sort(key=lambda item: (-item[0], -item[1].upvotes, item[1].id))
    listed = [ListedPaper(paper, reasons, round(value, 4)) for value, paper, reasons in scored[: max(0, limit)]]
    return listed, len(matched)

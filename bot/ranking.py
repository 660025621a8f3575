"""Ranking for `search` and for choosing what fits in a digest (DESIGN §3).

For each candidate that `bot.query.match` accepts (and is not withdrawn):

    score = 1.0 * relevance            text relevance, 0..1 (below)
          + 0.5 * title                1 when a positive word/phrase of the query matched in the title
          + 0.1 * log1p(upvotes)       community signal: 10 upvotes ~ +0.24, 100 ~ +0.46, 1000 ~ +0.69
          + 0.5 * 2 ** (-age / 30)     recency, half-life 30 days, age in days from the paper's first
                                       Daily Papers day (else its arXiv published date; no date -> 0)

Two sources of `relevance`. `rank` (given scores) takes the BM25 score storage passed in. SQLite FTS5's
`bm25()` is negative with lower = better; if every given score is <= 0 the scores are negated, so either
convention works. Relevance is divided by the best score in the set. When storage has no scores (all 0,
e.g. a recent-papers scan for a query without words), a BM25 (k1 = 1.2, b = 0.75) over the candidates'
title, abstract and AI keywords, on the query's positive words, is computed here instead.

`rank_papers` (what `/papers search` uses, `bot.search`) computes it from the paper alone, so that one
paper's score never depends on which other papers matched: that is what lets the search stop early at a
million papers with the exact top 10 (`ceiling`). For each positive word or phrase of the query, where it
occurs counts with BM25's saturation (k1 = 1.2, b = 0.75) against fixed typical field lengths, weighted
per mention: title 1.0, AI keywords 0.5, abstract 0.25, capped at 1. So one mention in an ordinary title
is full relevance, an abstract that keeps returning to the topic reaches about half. An OR takes its best
branch, an AND the mean of its positive parts, an author a full 1; exclusions and filters add nothing.

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
    PaperText,
    Phrase,
    Term,
    TextLeaf,
    TopicQuery,
    analyse,
    author_leaf_name,
    compile_leaf,
    match_hits,
    positive_text_leaves,
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
    return {s for leaf in positive_text_leaves(node) for stems, _, _ in leaf.alternatives for s in stems}


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


# Set-independent relevance (`relevance`): weight per saturated mention, and the typical field length
# (words) that BM25's length normalisation compares with, fixed so that no other paper is involved.
FIELD_WEIGHTS = {"title": 1.0, "keyword": 0.5, "abstract": 0.25}
TYPICAL_LENGTH = {"title": 10.0, "keyword": 25.0, "abstract": 180.0}


def _occurrences(sequence: tuple[str, ...], stems: tuple[str, ...]) -> int:
    n = len(stems)
    if n == 1:
        return sequence.count(stems[0])
    return sum(1 for i in range(len(sequence) - n + 1) if sequence[i : i + n] == stems)


def _leaf_relevance(leaf: TextLeaf, text: PaperText) -> float:
    best = 0.0
    for stems, _, _ in leaf.alternatives:
        total = 0.0
        for field in leaf.fields:
            if not all(s in text.vocab[field] for s in stems):
                continue
            sequences = text.sequences[field]
            if field == "keyword":
                # Every keyword is its own sequence: count over all of them (both hyphen views of each).
                tf = sum(_occurrences(seq, stems) for seq in sequences)
                length = sum(len(seq) for seq in sequences)
            else:
                # The split view first, the joined one when it has more ("multi-modal" asked as "multimodal").
                tf = max(_occurrences(seq, stems) for seq in sequences)
                length = len(sequences[0])
            if tf:
                norm = 1 - _B + _B * length / TYPICAL_LENGTH[field]
                total += FIELD_WEIGHTS[field] * tf * (_K1 + 1) / (tf + _K1 * norm)
        best = max(best, total)
    return min(1.0, best)


def _relevance(node: Node, text: PaperText) -> float | None:
    """0..1 for the parts of `node` that say what a paper is about; None for exclusions and filters."""
    match node:
        case Term() | Phrase() | Field():
            leaf = compile_leaf(node)
            if isinstance(leaf, TextLeaf):
                return _leaf_relevance(leaf, text)
            return 1.0 if author_leaf_name(leaf, text) is not None else 0.0
        case Or(children):
            values = [v for v in (_relevance(c, text) for c in children) if v is not None]
            return max(values) if values else None
        case And(children):
            values = [v for v in (_relevance(c, text) for c in children) if v is not None]
            return sum(values) / len(values) if values else None
        case _:
            return None


def relevance(query: TopicQuery, paper: Paper) -> float:
    """How much `paper` is about `query`, 0..1, from the paper alone (module docstring)."""
    return _relevance(query.root, analyse(paper)) or 0.0


def recency(day: date | None, today: date) -> float:
    """2 ** (-age / 30): 1 for today (and for a date after it), 0 for an undated paper."""
    if day is None:
        return 0.0
    return float(2.0 ** (-max(0.0, float((today - day).days)) / HALF_LIFE_DAYS))


ABSTRACT_ONLY_RELEVANCE = min(1.0, FIELD_WEIGHTS["abstract"] * (_K1 + 1))
"""The most relevance a paper gets from its abstract alone (any number of mentions): 0.55."""


def ceiling(upvotes: int, day: date | None, today: date) -> float:
    """The most a paper with at most `upvotes` and arrived no later than `day` can score in `rank_papers`.

    Relevance and the title bonus at their maxima (1 and 0.5); upvotes and recency as given. `bot.search`
    stops when no paper left can reach the k-th score.
    """
    return (
        RELEVANCE_WEIGHT
        + TITLE_BONUS
        + UPVOTES_WEIGHT * math.log1p(max(0, upvotes))
        + RECENCY_WEIGHT * recency(day, today)
    )


def rank_papers(query: TopicQuery, papers: Sequence[Paper], *, today: date) -> list[ListedPaper]:
    """Every matching, non-withdrawn paper of `papers`, scored with the set-independent `relevance`, best first.

    A paper's score depends on the paper, the query and `today` only, so lists scored separately and
    merged by `order_key` give exactly what scoring them together would.
    """
    out: list[ListedPaper] = []
    for paper in papers:
        if paper.withdrawn:
            continue
        hits = match_hits(query, paper)
        if hits is None:
            continue
        title_match = any(in_title for _, in_title in hits)
        value = score(relevance(query, paper), title_match, paper.upvotes, _age_days(paper, today))
        out.append(ListedPaper(paper, reasons_of(query, hits), value))
    out.sort(key=order_key)
    return out


def order_key(listed: ListedPaper) -> tuple[float, int, str]:
    """Best first: score, then upvotes, then id (a stable order for equal scores)."""
    return (-(listed.score or 0.0), -listed.paper.upvotes, listed.paper.id)


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

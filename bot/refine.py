"""Refinements a channel's votes suggest for one of its topics: suggested, never applied silently.

When most of the papers a channel disliked under a topic share an AI keyword that none of the papers
it liked under that topic has, the topic could exclude it: `agent` with four of five dislikes about
"web agent" suggests `agent -"web agent"`. `/papers topics` shows the suggestion and why, with a
button (the typed `refine` command) that applies it when a channel manager presses it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot import textnorm
from bot.query import QuerySyntaxError, TopicQuery, match, parse
from bot.types import Paper, Refinement

MIN_DISLIKED = 4
"""At least this many disliked papers under the topic must share the keyword..."""
MIN_SHARE = 0.6
"""...and at least this share of them; and no liked paper under the topic may have it."""


def refined_query(query: str, phrase: str) -> str:
    """`query` that excludes `phrase`; an OR at the top is grouped first, so the exclusion covers it all."""
    clean = " ".join(phrase.replace('"', " ").split())
    base = f"({query})" if " or " in f" {query.casefold()} " else query
    return f'{base} -"{clean}"'


def _keywords(paper: Paper) -> dict[str, str]:
    """normalised keyword -> as written, for one paper."""
    found: dict[str, str] = {}
    for keyword in paper.ai_keywords:
        words = textnorm.words(keyword)
        if words:
            found.setdefault(" ".join(words), " ".join(keyword.split()))
    return found


def suggest(query: TopicQuery, liked: Sequence[Paper], disliked: Sequence[Paper]) -> Refinement | None:
    """The exclusion the votes under `query` point to (module docstring), or None."""
    under_disliked = [p for p in disliked if match(query, p) is not None]
    if len(under_disliked) < MIN_DISLIKED:
        return None
    liked_keywords: set[str] = set()
    for paper in liked:
        if match(query, paper) is not None:
            liked_keywords |= set(_keywords(paper))
    counts: Counter[str] = Counter()
    written: dict[str, str] = {}
    for paper in under_disliked:
        for key, shown in _keywords(paper).items():
            counts[key] += 1
            written.setdefault(key, shown)
    folded_query = " ".join(textnorm.words(query.text))
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if n < MIN_DISLIKED or n / len(under_disliked) < MIN_SHARE:
            break
        if key in liked_keywords or key in folded_query:
            continue
        text = refined_query(query.text, written[key])
        try:
            parse(text)
        except QuerySyntaxError:  # too long with the exclusion, for one
            continue
        return Refinement(written[key], text, n, len(under_disliked))
    return None

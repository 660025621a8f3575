"""Fast digest matching: many topic queries against one day's papers (DESIGN §12).

`PaperIndex` analyses each paper once (the same `bot.query.analyse` the exact matcher uses) and keeps, per
field, an inverted index from stem to a bitset of paper positions (a Python int: bit i = paper i). A query
is then set algebra on ints: a word is the OR of the bitsets of its alternatives (acronym expansions,
hyphen views), a phrase starts from the AND of its words' bitsets and is confirmed per candidate with the
matcher's own phrase check, NOT is `universe & ~x`, filters are computed once per node. Results are memoised
per AST node, and many channels share topics, so a day's 30,000 subscriptions cost a few hundred distinct
evaluations.

The contract: `evaluate(q) == {p.id for p in papers if match(q, p)}`, exactly; tests check it with
generated queries over real papers.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar, cast

from bot.query import (
    And,
    AuthorLeaf,
    CategoryFilter,
    Field,
    Node,
    Not,
    Or,
    PaperText,
    Phrase,
    SourceFilter,
    Term,
    TextLeaf,
    TopicQuery,
    Upvotes,
    analyse,
    author_leaf_name,
    category_of,
    compile_leaf,
    text_leaf_field,
    upvotes_ok,
)
from bot.types import Paper

_TEXT_FIELDS = ("title", "abstract", "keyword")
T = TypeVar("T")


def _bits(bitset: int) -> list[int]:
    """Positions of the set bits, lowest first."""
    out = []
    while bitset:
        low = bitset & -bitset
        out.append(low.bit_length() - 1)
        bitset ^= low
    return out


class PaperIndex:
    """An inverted index over a fixed list of papers, answering topic queries exactly like `match()`."""

    def __init__(self, papers: Sequence[Paper]) -> None:
        self._papers = tuple(papers)
        self.by_id: dict[str, Paper] = {p.id: p for p in self._papers}
        self._texts: tuple[PaperText, ...] = tuple(analyse(p) for p in self._papers)
        self._universe = (1 << len(self._papers)) - 1
        self._postings: dict[str, dict[str, int]] = {f: {} for f in (*_TEXT_FIELDS, "author")}
        for i, text in enumerate(self._texts):
            bit = 1 << i
            for field in _TEXT_FIELDS:
                postings = self._postings[field]
                for stem in text.vocab[field]:
                    postings[stem] = postings.get(stem, 0) | bit
            authors = self._postings["author"]
            for _, name_views in text.authors:
                for view in name_views:
                    for word in view:
                        authors[word] = authors.get(word, 0) | bit
        self._memo: dict[Node, int] = {}
        self._results: dict[TopicQuery, frozenset[str]] = {}
        self._derived: dict[Hashable, object] = {}

    def evaluate(self, query: TopicQuery) -> frozenset[str]:
        """Ids of the papers that match `query`."""
        cached = self._results.get(query)
        if cached is None:
            ids = self._papers
            cached = frozenset(ids[i].id for i in _bits(self._eval(query.root)))
            self._results[query] = cached
        return cached

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A caller's result derived from this index's papers, computed once per key and kept as long as
        the index (the digest keeps each topic's ranked matches per window here)."""
        try:
            return cast(T, self._derived[key])
        except KeyError:
            value = self._derived[key] = compute()
            return value

    def evaluate_many(self, queries: Sequence[TopicQuery]) -> list[frozenset[str]]:
        """`evaluate` for each query; identical queries (shared topics) are computed once."""
        return [self.evaluate(q) for q in queries]

    # -----------------------------------------------------------------------------------------

    def _eval(self, node: Node) -> int:
        cached = self._memo.get(node)
        if cached is not None:
            return cached
        result: int
        match node:
            case Term() | Phrase() | Field():
                leaf = compile_leaf(node)
                result = self._author(leaf) if isinstance(leaf, AuthorLeaf) else self._text(leaf)
            case Not(child):
                result = self._universe & ~self._eval(child)
            case And(children):
                result = self._universe
                for child in children:
                    result &= self._eval(child)
                    if not result:
                        break
            case Or(children):
                result = 0
                for child in children:
                    result |= self._eval(child)
            case Upvotes():
                result = self._per_paper(lambda p: upvotes_ok(node, p.upvotes))
            case SourceFilter(source):
                result = self._per_paper(lambda p: source in p.sources)
            case CategoryFilter():
                result = self._per_paper(lambda p: category_of(node, p) is not None)
        self._memo[node] = result
        return result

    def _per_paper(self, predicate: Callable[[Paper], bool]) -> int:
        result = 0
        for i, paper in enumerate(self._papers):
            if predicate(paper):
                result |= 1 << i
        return result

    def _text(self, leaf: TextLeaf) -> int:
        sure = 0  # papers matched by a one-word alternative: no position check needed
        maybe = 0  # papers holding every word of a multi-word alternative in one field
        for field in leaf.fields:
            postings = self._postings[field]
            for stems, _, _ in leaf.alternatives:
                bits = self._universe
                for stem in stems:
                    bits &= postings.get(stem, 0)
                    if not bits:
                        break
                if len(stems) == 1:
                    sure |= bits
                else:
                    maybe |= bits
        maybe &= ~sure
        for i in _bits(maybe):
            if text_leaf_field(leaf, self._texts[i]) is not None:
                sure |= 1 << i
        return sure

    def _author(self, leaf: AuthorLeaf) -> int:
        postings = self._postings["author"]
        candidates = 0
        for view in leaf.views:
            bits = self._universe
            for word in view:
                bits &= postings.get(word, 0)
            candidates |= bits
        result = 0
        for i in _bits(candidates):
            if author_leaf_name(leaf, self._texts[i]) is not None:
                result |= 1 << i
        return result

"""More like this: TF-IDF over every stored paper's title, abstract and keywords, local and offline.

The keyword `similar` before this only found papers that share one of the paper's AI keywords word for
word; related work phrased differently ("3D Gaussian splatting" vs "radiance field rendering") was
missed. Here each paper is a TF-IDF vector of its stemmed words:

    weight(t, d) = (1 + ln tf(t, d)) * ln(N / df(t)),    vectors L2-normalised over all their terms

and "more like this" is cosine similarity, computed through an inverted index. Two bounds keep a call
fast at 100,000 papers (bench/similar.py measures it) and the index small:

- a paper is indexed under its `SIGNATURE` highest-weighted terms only (its "signature": the words that
  say what it is about; a term common to half the corpus rarely makes anyone's signature), so a
  posting list holds the papers a term characterises, not every paper that mentions it;
- the asking paper contributes its `QUERY_TERMS` highest-weighted terms, as Lucene's MoreLikeThis does.

The index is built from storage the first time it is asked (so an idle bot never pays for it), in a
worker thread, and rebuilt in the background when this process stored new papers or `MAX_AGE` passed
(another replica's ingest); the old one serves meanwhile. A paper not yet indexed is scored from its own
text against the index. Every result says which words it shares, so the channel sees why it is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import re
import time
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.ports import PaperStore
from bot.textnorm import fold, stem
from bot.types import Paper

logger = logging.getLogger(__name__)

SIGNATURE = 40
QUERY_TERMS = 25
MAX_AGE = 3600.0
"""Seconds after which the index is rebuilt even when this process stored nothing (another replica did)."""
EXPLAIN_TERMS = 3

_WORD = re.compile(r"[a-z][a-z0-9]+")
# English function words and the words every abstract uses: they carry no topic and would only make the
# postings long. (IDF alone would give them tiny weights; dropping them keeps the index small.)
_STOP_WORDS = (
    "a about above after again against all also an and any are as at be because been before being below "
    "between both but by can could did do does doing down during each few for from further had has have "
    "having here how however i if in into is it its itself just more most no nor not now of off on once "
    "only or other our out over own same should so some such than that the their them then there these "
    "they this those through to too under until up very was we were what when where which while who whom "
    "why will with would you your yet via thus therefore based using use used uses paper propose proposed "
    "proposes approach method methods show shows shown results result work novel new existing recent "
    "recently demonstrate demonstrates significant significantly achieve achieves extensive experiments "
)
_STOP = frozenset(_STOP_WORDS.split())


def terms(text: str) -> Iterable[tuple[str, str]]:
    """(stem, surface word) for every topical word of `text`."""
    for word in _WORD.findall(fold(text)):
        if len(word) > 2 and word not in _STOP and not word.isdigit():
            yield stem(word), word


def paper_text(paper: Paper) -> str:
    """What a paper's vector is made of: title (twice: it says most in fewest words), abstract, keywords."""
    return " ".join((paper.title, paper.title, paper.abstract, " ".join(paper.ai_keywords)))


@dataclass(frozen=True, slots=True)
class Related:
    paper_id: str
    score: float
    shared: tuple[str, ...]
    """The words it shares with the asking paper that weigh most, as people write them."""


class SimilarityIndex:
    """The inverted TF-IDF index of a corpus (pure and synchronous: built in a worker thread)."""

    def __init__(self, docs: Iterable[tuple[str, str]]) -> None:
        vocabulary: dict[str, int] = {}
        self.words: list[str] = []  # term id -> a surface word for it (the first seen)
        bags: list[tuple[str, array[int], array[int]]] = []
        df: list[int] = []
        for doc_id, text in docs:
            counts: Counter[int] = Counter()
            for term, word in terms(text):
                tid = vocabulary.get(term)
                if tid is None:
                    tid = vocabulary[term] = len(self.words)
                    self.words.append(word)
                    df.append(0)
                counts[tid] += 1
            for tid in counts:
                df[tid] += 1
            bags.append((doc_id, array("I", counts.keys()), array("I", counts.values())))
        self.vocabulary = vocabulary
        self.size = len(bags)
        self.idf = [math.log(self.size / d) if d else 0.0 for d in df]
        self.ids: list[str] = []
        self.position: dict[str, int] = {}
        lists: dict[int, tuple[array[int], array[float]]] = {}
        for doc_id, tids, tfs in bags:
            doc = len(self.ids)
            self.ids.append(doc_id)
            self.position[doc_id] = doc
            for tid, weight in self._signature(list(zip(tids, tfs, strict=True)), SIGNATURE):
                docs_of, weights_of = lists.setdefault(tid, (array("I"), array("f")))
                docs_of.append(doc)
                weights_of.append(weight)
        self.postings = lists

    def _signature(self, counts: Sequence[tuple[int, int]], keep: int) -> list[tuple[int, float]]:
        """The `keep` highest-weighted (term, weight) of a bag of words, weights normalised over all terms."""
        weighted = [(tid, (1.0 + math.log(tf)) * self.idf[tid]) for tid, tf in counts]
        norm = math.sqrt(sum(w * w for _, w in weighted)) or 1.0
        top = heapq.nlargest(keep, weighted, key=lambda item: item[1])
        return [(tid, w / norm) for tid, w in top if w > 0]

    def vector(self, text: str, keep: int = QUERY_TERMS) -> list[tuple[int, float]]:
        """The top `keep` (term, weight) of any text against this corpus (words it never saw are dropped)."""
        counts: Counter[int] = Counter()
        for term, _ in terms(text):
            tid = self.vocabulary.get(term)
            if tid is not None:
                counts[tid] += 1
        return self._signature(list(counts.items()), keep)

    def like(self, text: str, *, exclude: str, limit: int) -> list[Related]:
        """The `limit` papers most like `text` (cosine of TF-IDF vectors), best first, `exclude` left out."""
        query = self.vector(text)
        scores: dict[int, float] = {}
        for tid, weight in query:
            posting = self.postings.get(tid)
            if posting is None:
                continue
            docs_of, weights_of = posting
            get = scores.get
            for doc, w in zip(docs_of, weights_of, strict=True):
                scores[doc] = get(doc, 0.0) + weight * w
        skip = self.position.get(exclude)
        if skip is not None:
            scores.pop(skip, None)
        best = heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))
        query_weights = dict(query)
        found = []
        for doc, score in best:
            found.append(Related(self.ids[doc], score, self._shared(doc, query_weights)))
        return found

    def _shared(self, doc: int, query: dict[int, float]) -> tuple[str, ...]:
        contributions = []
        for tid, weight in query.items():
            posting = self.postings.get(tid)
            if posting is None:
                continue
            docs_of, weights_of = posting
            # Posting lists are in document order: find this document by bisection.
            lo, hi = 0, len(docs_of)
            while lo < hi:
                mid = (lo + hi) // 2
                if docs_of[mid] < doc:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < len(docs_of) and docs_of[lo] == doc:
                contributions.append((weight * weights_of[lo], self.words[tid]))
        contributions.sort(reverse=True)
        return tuple(word for _, word in contributions[:EXPLAIN_TERMS])


class MoreLikeThis:
    """Related papers from the stored corpus, through a `SimilarityIndex` kept fresh in the background."""

    def __init__(self, papers: PaperStore, *, max_age: float = MAX_AGE) -> None:
        self._papers = papers
        self._max_age = max_age
        self._index: SimilarityIndex | None = None
        self._built_generation = -1
        self._built_at = 0.0
        self._first = asyncio.Lock()
        self._refresh: asyncio.Task[None] | None = None

    async def _build(self) -> None:
        generation = self._papers.generation
        corpus = await self._papers.corpus()
        started = time.perf_counter()
        index = await asyncio.to_thread(SimilarityIndex, corpus)
        logger.info(
            "similarity index built: %d papers, %d terms in %.1f s",
            index.size,
            len(index.postings),
            time.perf_counter() - started,
        )
        self._index, self._built_generation, self._built_at = index, generation, time.monotonic()

    async def _refresh_quietly(self) -> None:
        try:
            await self._build()
        except Exception:
            logger.exception("rebuilding the similarity index failed; the previous one keeps serving")

    async def index(self) -> SimilarityIndex:
        if self._index is None:
            async with self._first:
                if self._index is None:
                    await self._build()
        stale = self._papers.generation != self._built_generation or time.monotonic() - self._built_at > self._max_age
        if stale and (self._refresh is None or self._refresh.done()):
            self._refresh = asyncio.create_task(self._refresh_quietly())
        assert self._index is not None
        return self._index

    async def like(self, paper: Paper, *, limit: int) -> list[Related]:
        index = await self.index()
        return index.like(paper_text(paper), exclude=paper.id, limit=limit)

    async def settle(self) -> None:
        """Wait until a background rebuild, if one runs, is done (its errors were logged)."""
        if self._refresh is not None:
            await self._refresh

    async def close(self) -> None:
        """Stop a background rebuild (at shutdown)."""
        task, self._refresh = self._refresh, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

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
- the asking paper contributes its `QUERY_TERMS` highest-weighted terms, as Lucene's MoreLikeThis does;
- a term's posting list keeps its `MAX_POSTINGS` highest-weighted papers (impact order).

The index is built from storage the first time it is asked (so an idle bot never pays for it), in a
worker thread; a call waits `FIRST_BUILD_WAIT` seconds for it at most and otherwise answers with the
keyword `similar` (saying so). It is rebuilt in the background when this process stored new papers or
`MAX_AGE` passed (another replica's ingest); the old one serves meanwhile. A paper not yet indexed is
scored from its own text against the index. Every result says which words it shares, so the channel
sees why it is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import re
import sys
import time
from array import array
from collections import Counter
from collections.abc import Iterable
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
MAX_POSTINGS = 2000
"""The most papers one term's posting list keeps (those it weighs most in): bounds the cost of a call."""
FIRST_BUILD_WAIT = 3.0
"""Seconds a call waits for the first index build; past that it answers without (the keyword `similar`)."""

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


class _TermIds(dict[str, int]):
    """Surface word -> term id (-1: not a topical word). Misses stem the word once; hits are C-speed."""

    def __init__(self) -> None:
        super().__init__()
        self.by_stem: dict[str, int] = {}
        self.words: list[str] = []  # term id -> a surface word for it (the first seen)

    def __missing__(self, word: str) -> int:
        if len(word) <= 2 or word in _STOP or word.isdigit():
            tid = -1
        else:
            term = stem(word)
            tid = self.by_stem.get(term, -1)
            if tid < 0:
                tid = self.by_stem[term] = len(self.words)
                self.words.append(word)
        self[word] = tid
        return tid


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower() if text.isascii() else fold(text))


class SimilarityIndex:
    """The inverted TF-IDF index of a corpus (pure and synchronous: built in a worker thread).

    Posting lists are impact-ordered (highest weight first) and hold at most `MAX_POSTINGS` papers: a
    query term then costs at most that many additions, however common it is, and the papers it drops
    are the ones it characterises least.
    """

    def __init__(self, docs: Iterable[tuple[str, str]]) -> None:
        # Everything per paper is kept in flat typed arrays, not Python objects: at 100,000 papers a dict
        # or a tuple per paper and term would cost gigabytes; these cost some 30 MB (bench/similar.py).
        ids = self._ids = _TermIds()
        self.ids: list[str] = []
        bag_terms, bag_counts, bag_ends = array("I"), array("I"), array("I")
        df = array("I")
        for doc_id, text in docs:
            counts = Counter(map(ids.__getitem__, _words(text)))
            counts.pop(-1, None)
            if len(df) < len(ids.words):  # words first seen in this paper
                df.extend([0] * (len(ids.words) - len(df)))
            for tid in counts:
                df[tid] += 1
            bag_terms.extend(counts.keys())
            bag_counts.extend(counts.values())
            bag_ends.append(len(bag_terms))
            self.ids.append(doc_id)
        self.words = ids.words
        self.size = len(self.ids)
        self.idf = [math.log(self.size / d) if d else 0.0 for d in df]
        self.position = {doc_id: doc for doc, doc_id in enumerate(self.ids)}
        # Each paper's signature (its SIGNATURE best terms), flat: terms and weights, ends per paper.
        self._sig_terms, self._sig_weights, self._sig_ends = array("I"), array("f"), array("I")
        docs_of: dict[int, array[int]] = {}
        weights_of: dict[int, array[float]] = {}
        begin = 0
        for end in bag_ends:
            signature = self._signature(zip(bag_terms[begin:end], bag_counts[begin:end], strict=True), SIGNATURE)
            begin = end
            doc = len(self._sig_ends)
            for tid, weight in signature:
                self._sig_terms.append(tid)
                self._sig_weights.append(weight)
                if tid not in docs_of:
                    docs_of[tid], weights_of[tid] = array("I"), array("f")
                docs_of[tid].append(doc)
                weights_of[tid].append(weight)
            self._sig_ends.append(len(self._sig_terms))
        del bag_terms, bag_counts
        self.postings: dict[int, tuple[array[int], array[float]]] = {}
        for tid, docs_here in docs_of.items():
            weights_here = weights_of[tid]
            if len(docs_here) > MAX_POSTINGS:
                keep = heapq.nlargest(MAX_POSTINGS, range(len(docs_here)), key=weights_here.__getitem__)
                docs_here = array("I", (docs_here[i] for i in keep))
                weights_here = array("f", (weights_here[i] for i in keep))
            self.postings[tid] = (docs_here, weights_here)

    def approx_bytes(self) -> int:
        """About how much memory the index holds (its arrays, lists and dicts; not the strings' sharing)."""
        arrays: list[array[int] | array[float]] = [self._sig_terms, self._sig_weights, self._sig_ends]
        arrays += [a for posting in self.postings.values() for a in posting]
        total = sum(a.itemsize * len(a) + 64 for a in arrays)
        total += sys.getsizeof(self.postings) + sys.getsizeof(self.position) + sys.getsizeof(self._ids)
        total += sys.getsizeof(self.ids) + sum(sys.getsizeof(i) for i in self.ids)
        total += sys.getsizeof(self.idf) + 24 * len(self.idf) + sum(sys.getsizeof(w) for w in self.words)
        return total

    def _signature(self, counts: Iterable[tuple[int, int]], keep: int) -> list[tuple[int, float]]:
        """The `keep` highest-weighted (term, weight) of a bag of words, weights normalised over all terms."""
        idf = self.idf
        weighted = [(tid, (1.0 + math.log(tf)) * idf[tid]) for tid, tf in counts]
        norm = math.sqrt(sum(w * w for _, w in weighted)) or 1.0
        top = heapq.nlargest(keep, weighted, key=lambda item: item[1])
        return [(tid, w / norm) for tid, w in top if w > 0]

    def vector(self, text: str, keep: int = QUERY_TERMS) -> list[tuple[int, float]]:
        """The top `keep` (term, weight) of any text against this corpus (words it never saw are dropped)."""
        known = self._ids.by_stem
        counts: Counter[int] = Counter()
        for term, _ in terms(text):
            tid = known.get(term)
            if tid is not None and tid < len(self.idf):
                counts[tid] += 1
        return self._signature(counts.items(), keep)

    def like(self, text: str, *, exclude: str, limit: int) -> list[Related]:
        """The `limit` papers most like `text` (cosine of TF-IDF vectors), best first, `exclude` left out."""
        query = self.vector(text)
        scores: dict[int, float] = {}
        get = scores.get
        for tid, weight in query:
            posting = self.postings.get(tid)
            if posting is None:
                continue
            docs_of, weights_of = posting
            for doc, w in zip(docs_of, weights_of, strict=True):
                scores[doc] = get(doc, 0.0) + weight * w
        skip = self.position.get(exclude)
        if skip is not None:
            scores.pop(skip, None)
        best = heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))
        return [Related(self.ids[doc], score, self._shared(doc, query)) for doc, score in best]

    def _shared(self, doc: int, query: list[tuple[int, float]]) -> tuple[str, ...]:
        begin = self._sig_ends[doc - 1] if doc else 0
        end = self._sig_ends[doc]
        signature = dict(zip(self._sig_terms[begin:end], self._sig_weights[begin:end], strict=True))
        contributions = sorted(((w * signature[t], t) for t, w in query if t in signature), reverse=True)
        return tuple(self.words[t] for _, t in contributions[:EXPLAIN_TERMS])


class MoreLikeThis:
    """Related papers from the stored corpus, through a `SimilarityIndex` kept fresh in the background."""

    def __init__(self, papers: PaperStore, *, max_age: float = MAX_AGE, first_wait: float = FIRST_BUILD_WAIT) -> None:
        self._papers = papers
        self._max_age = max_age
        self._first_wait = first_wait
        self._index: SimilarityIndex | None = None
        self._built_generation = -1
        self._built_at = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _build(self) -> None:
        try:
            generation = self._papers.generation
            corpus = await self._papers.corpus()
            started = time.perf_counter()
            index = await asyncio.to_thread(SimilarityIndex, corpus)
        except Exception:
            logger.exception("building the similarity index failed; the next call tries again")
            return
        logger.info(
            "similarity index built: %d papers, %d terms in %.1f s",
            index.size,
            len(index.postings),
            time.perf_counter() - started,
        )
        self._index, self._built_generation, self._built_at = index, generation, time.monotonic()

    def _start_build(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._build())
        return self._task

    async def index(self, *, wait: float | None = None) -> SimilarityIndex | None:
        """The index; the first time, built while waiting at most `wait` seconds (None: until built).

        None when it is not built yet: the caller answers another way, and a later call finds it built.
        """
        if self._index is None:
            task = self._start_build()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), timeout=wait)
            return self._index
        stale = self._papers.generation != self._built_generation or time.monotonic() - self._built_at > self._max_age
        if stale:
            self._start_build()  # the current index serves until the new one is built
        return self._index

    async def like(self, paper: Paper, *, limit: int) -> list[Related] | None:
        """The papers most like `paper`; None while the first index is still being built."""
        index = await self.index(wait=self._first_wait)
        if index is None:
            return None
        return index.like(paper_text(paper), exclude=paper.id, limit=limit)

    async def settle(self) -> None:
        """Wait until a build, if one runs, is done (its errors were logged)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def close(self) -> None:
        """Stop a build (at shutdown)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

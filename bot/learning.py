"""What a channel's votes teach: a small per-channel model that orders its digest, and says how.

The model is Rocchio relevance feedback over a paper's *features*: its Hugging Face AI keywords
(`keyword: web agent`), its first five authors and its last (`author: Yann LeCun`) and the stems of
up to eight title words (`title word: diffusion`, common words left out). Abstracts are left out on
purpose: keywords already summarise them, and a couple of dozen features per paper keep a fan-out over
thousands of channels cheap (`FeaturePool` narrows each model to the features of the day's papers).

A paper the channel voted on counts once, by the sign of its net vote (more likes than dislikes:
liked). For each feature f, with L the liked and D the disliked papers::

    weight(f) = BETA * |liked papers with f| / |L|  -  GAMMA * |disliked papers with f| / |D|

and a paper's learned score is the sum of its features' weights over sqrt(its number of features)
(cosine-like: a paper with many features does not win by having many). BETA = 1, GAMMA = 0.75: the
classic Rocchio weights, a dislike pushes down a little less than a like pulls up.

What the score changes (bot.digest): the order of the topic section and so which matches fit when
there are more than the channel's `max`; the trending section only with `settings learning-trending
on`. A match is never removed: only the channel's query decides what matches. Each moved paper gets
a `LearnedEffect`: its strongest feature, how many liked (or disliked) papers share it, one of them.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot import textnorm
from bot.types import ChannelSettings, LearnedEffect, Paper, Vote

BETA = 1.0
GAMMA = 0.75
MIN_VOTES = 5
"""Learning starts by itself once a channel has this many votes (`settings learning on|off` overrides)."""
LEARNED_WEIGHT = 2.0
"""How much the learned score counts against `UPVOTES_WEIGHT * log1p(upvotes)` when ordering."""
UPVOTES_WEIGHT = 0.1
"""The community signal of `bot.ranking`: 10 upvotes ~ +0.24, 100 ~ +0.46."""
MIN_EFFECT = 0.05
"""Below this learned score (either way) a paper's place is said to be its own, not the votes'."""

# Words too common in ML titles to say anything about a channel's taste.
_STOP_WORDS = (
    "a an and are as at be by for from in into is it of on or the to with via we our towards toward "
    "using use based new large model models learning language data method approach study benchmark "
    "task tasks efficient improving improve scalable through beyond without can how what when"
)
_STOP = frozenset(textnorm.stem(w) for w in _STOP_WORDS.split(" "))


MAX_AUTHORS = 6
"""The first five authors and the last (often the lab's head): a 3,000-author paper is not 3,000 features."""
MAX_TITLE_WORDS = 8


@dataclass(frozen=True, slots=True)
class Features:
    """A paper's features (`keys`, what the model counts) and their labels for a reader."""

    keys: tuple[str, ...]
    labels: dict[str, str]
    zeros: tuple[int, ...]
    """As many zeros as keys: the default of `map(counts.get, keys, zeros)`, which sums in C."""
    norm: float


_FEATURES: dict[str, tuple[Paper, Features]] = {}
_MAX_CACHED = 1 << 16


def _extract(paper: Paper) -> Features:
    found: dict[str, str] = {}
    for keyword in paper.ai_keywords:
        words = textnorm.words(keyword)
        if words:
            found.setdefault("k:" + " ".join(words), f"keyword: {' '.join(keyword.split())}")
    authors = paper.authors
    for author in authors[: MAX_AUTHORS - 1] + authors[MAX_AUTHORS - 1 :][-1:]:
        words = textnorm.words(author)
        if words:
            found.setdefault("a:" + " ".join(words), f"author: {' '.join(author.split())}")
    taken = 0
    for word in textnorm.words(paper.title):
        if taken >= MAX_TITLE_WORDS:
            break
        if len(word) < 3 or word.isdigit():
            continue
        stemmed = textnorm.stem(word)
        if stemmed not in _STOP and "t:" + stemmed not in found:
            found["t:" + stemmed] = f"title word: {word}"
            taken += 1
    keys = tuple(found)
    return Features(keys, found, (0,) * len(keys), math.sqrt(len(keys)) if keys else 1.0)


def features(paper: Paper) -> Features:
    """The paper's features, worked out once per paper (a fan-out sees the same papers many times)."""
    cached = _FEATURES.get(paper.id)
    if cached is not None and (cached[0] is paper or cached[0].title == paper.title):
        return cached[1]
    found = _extract(paper)
    if len(_FEATURES) >= _MAX_CACHED:
        _FEATURES.clear()  # bounded: a long-running bot sees ever new papers
    _FEATURES[paper.id] = (paper, found)
    return found


def net_votes(votes: Iterable[Vote]) -> dict[str, int]:
    """The net vote per paper (likes minus dislikes); papers at 0 are left out."""
    net: Counter[str] = Counter()
    for vote in votes:
        net[vote.paper_id] += vote.value
    return {paper: value for paper, value in net.items() if value}


def tally(votes: Iterable[Vote]) -> dict[str, tuple[int, int]]:
    """(likes, dislikes) per paper."""
    counts: dict[str, tuple[int, int]] = {}
    for vote in votes:
        up, down = counts.get(vote.paper_id, (0, 0))
        counts[vote.paper_id] = (up + 1, down) if vote.value > 0 else (up, down + 1)
    return counts


def is_active(settings: ChannelSettings, votes: int) -> bool:
    """Whether learning orders this channel's digest: as set, else once it has `MIN_VOTES` votes."""
    return settings.learning if settings.learning is not None else votes >= MIN_VOTES


@dataclass(frozen=True, slots=True)
class FeatureWeight:
    label: str
    weight: float


class FeaturePool:
    """The features of the papers one fan-out can rank, shared by every channel of it.

    A voted paper's other features can never move one of these papers, so a model built against the
    pool counts only the features they share: a channel with 200 votes counts a few hundred keys,
    not thousands. Each voted paper's shared features are worked out once per pool. `FeaturePool(None)`
    keeps every feature (`/papers why` on any paper).
    """

    __slots__ = ("keys", "of")

    def __init__(self, papers: Iterable[Paper] | None) -> None:
        self.keys = (
            None if papers is None else frozenset(itertools.chain.from_iterable(features(p).keys for p in papers))
        )
        self.of: dict[str, tuple[str, ...]] = {}
        """paper id -> its features within the pool, for the papers looked up so far (`add`)."""

    def add(self, papers: Mapping[str, Paper], ids: Iterable[str]) -> list[str]:
        """The ids that are papers, each with its features in `of`."""
        known: list[str] = []
        of, keys = self.of, self.keys
        for pid in ids:
            if pid not in of:
                paper = papers.get(pid)
                if paper is None:
                    continue
                found = features(paper).keys
                of[pid] = found if keys is None else tuple(k for k in found if k in keys)
            known.append(pid)
        return known


class ChannelModel:
    """One channel's learned weights (module docstring), built from its voted papers.

    With a `pool`, only the weights of the pool's features are kept (all that papers of the pool can
    use); without one, every feature's.
    """

    __slots__ = ("_disliked", "_dislikes", "_down", "_liked", "_likes", "_papers", "_pool", "_scores", "_up")

    def __init__(
        self, liked: Iterable[str], disliked: Iterable[str], papers: Mapping[str, Paper], pool: FeaturePool | None
    ) -> None:
        pool = pool if pool is not None else FeaturePool(None)
        self._pool = pool
        self._papers = papers
        self._liked = pool.add(papers, liked)
        self._disliked = pool.add(papers, disliked)
        # Counter over the chained features runs in C; so do the lookups of each paper's features.
        self._likes = Counter(itertools.chain.from_iterable(map(pool.of.__getitem__, self._liked)))
        self._dislikes = Counter(itertools.chain.from_iterable(map(pool.of.__getitem__, self._disliked)))
        self._up = BETA / len(self._liked) if self._liked else 0.0
        self._down = GAMMA / len(self._disliked) if self._disliked else 0.0
        self._scores: dict[str, float] = {}

    @classmethod
    def from_votes(
        cls, votes: Iterable[Vote], papers: Mapping[str, Paper], pool: FeaturePool | None = None
    ) -> ChannelModel:
        return cls.from_net(net_votes(votes), papers, pool)

    @classmethod
    def from_tally(
        cls, tallies: Mapping[str, tuple[int, int]], papers: Mapping[str, Paper], pool: FeaturePool | None = None
    ) -> ChannelModel:
        """From (likes, dislikes) per paper, as the store counts them."""
        liked = [pid for pid, (up, down) in tallies.items() if up > down]
        disliked = [pid for pid, (up, down) in tallies.items() if up < down]
        return cls(liked, disliked, papers, pool)

    @classmethod
    def from_net(
        cls, net: Mapping[str, int], papers: Mapping[str, Paper], pool: FeaturePool | None = None
    ) -> ChannelModel:
        liked = [pid for pid, value in net.items() if value > 0]
        disliked = [pid for pid, value in net.items() if value < 0]
        return cls(liked, disliked, papers, pool)

    @property
    def empty(self) -> bool:
        return not self._liked and not self._disliked

    def weight(self, feature: str) -> float:
        return self._up * self._likes.get(feature, 0) - self._down * self._dislikes.get(feature, 0)

    def score(self, paper: Paper) -> float:
        found = self._scores.get(paper.id)
        if found is None:
            f = features(paper)
            # map(get, keys, zeros) and sum run in C: a fan-out scores every match of thousands of channels.
            up = sum(map(self._likes.get, f.keys, f.zeros))
            down = sum(map(self._dislikes.get, f.keys, f.zeros))
            found = self._scores[paper.id] = (self._up * up - self._down * down) / f.norm
        return found

    def order_key(self, paper: Paper) -> float:
        """Higher first: the learned score next to the community's upvotes."""
        return LEARNED_WEIGHT * self.score(paper) + UPVOTES_WEIGHT * math.log1p(max(0, paper.upvotes))

    def effect(self, paper: Paper) -> LearnedEffect | None:
        """What the votes did to `paper`, or None when they barely touch it."""
        value = self.score(paper)
        if abs(value) < MIN_EFFECT:
            return None
        direction = 1 if value > 0 else -1
        f = features(paper)
        ups, downs = map(self._likes.get, f.keys, f.zeros), map(self._dislikes.get, f.keys, f.zeros)
        pulls = [direction * (self._up * a - self._down * b) for a, b in zip(ups, downs, strict=True)]
        best_at = max(range(len(pulls)), key=pulls.__getitem__)
        if pulls[best_at] <= 0:
            return None
        best = f.keys[best_at]
        voted, counts = (self._liked, self._likes) if direction > 0 else (self._disliked, self._dislikes)
        of = self._pool.of
        # The strongest feature is a common one among the voted papers: the scan stops early.
        example = next((pid for pid in voted if pid != paper.id and best in of[pid]), None)
        if example is None:
            return None
        title = " ".join(self._papers[example].title.split())
        return LearnedEffect(direction, counts[best], f.labels[best], title[:100], round(value, 4))

    def strongest(self, paper: Paper, n: int = 3) -> list[FeatureWeight]:
        """The features of `paper` that move it most, strongest first (for `/papers why`)."""
        found = features(paper)
        weighted = [FeatureWeight(found.labels[f], self.weight(f)) for f in found.keys if self.weight(f)]
        weighted.sort(key=lambda fw: (-abs(fw.weight), fw.label))
        return weighted[:n]

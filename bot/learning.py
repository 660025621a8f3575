"""What a channel's votes teach: a small per-channel model that orders its digest, and says how.

The model is Rocchio relevance feedback over a paper's *features*: its Hugging Face AI keywords
(`keyword: web agent`), its first five authors and its last (`author: Yann LeCun`) and the stems of
up to eight title words (`title word: diffusion`, common words left out). Abstracts are left out on
purpose: keywords already summarise them, and a couple of dozen features per paper keep a fan-out over
thousands of channels cheap (`FeaturePool` narrows each model to the features of the day's papers).

Counting is done once per fan-out, not once per channel: the pool gives each voted paper a bit and
records, per paper of the day, which voted papers share how many features with it. A channel's model
is then the bits of its liked and its disliked papers, and a paper's score a few AND + popcounts.
The integers counted are the same as a per-channel count of features would give, so scores and
explanations are exactly those of the straightforward formula below (a unit test compares both).

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
    return Features(keys, found, math.sqrt(len(keys)) if keys else 1.0)


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
    pool counts only the features they share. Each voted paper is worked out once per pool, not once
    per channel that voted on it: it gets a bit of its own (`bit`), each of its shared features
    records that bit (`holders`), and each paper of the pool records how many features it shares with
    it by count (`shared_with[p][n]` holds the voted papers sharing exactly n features with p). A
    channel is then two integers, the bits of its liked and of its disliked papers, and "how many
    features of p do the liked papers have, counted per liked paper" is a few AND + popcounts in C
    instead of a `Counter` over every voted paper's features per channel. `FeaturePool(None)` keeps
    every feature and no `shared_with` (`/papers why` on any paper counts through `holders`).
    """

    __slots__ = ("_by_feature", "bit", "holders", "keys", "of", "shared_with")

    def __init__(self, papers: Iterable[Paper] | None) -> None:
        self.of: dict[str, tuple[str, ...]] = {}
        """paper id -> its features within the pool, for the papers looked up so far (`add`)."""
        self.bit: dict[str, int] = {}
        """voted paper id -> its bit (a power of two), in the order they were first looked up."""
        self.holders: dict[str, int] = {}
        """feature -> the bits of the voted papers that have it."""
        self.shared_with: dict[str, dict[int, int]] = {}
        """pool paper id -> {n: the bits of the voted papers sharing exactly n features with it}."""
        self._by_feature: dict[str, list[str]] = {}
        if papers is None:
            self.keys: frozenset[str] | None = None
            return
        for paper in papers:
            self.shared_with[paper.id] = {}
            for key in features(paper).keys:
                self._by_feature.setdefault(key, []).append(paper.id)
        self.keys = frozenset(self._by_feature)

    def add(self, papers: Mapping[str, Paper], ids: Iterable[str]) -> list[str]:
        """The ids that are papers, each with its features in `of` and its bit in `bit`."""
        ids = list(ids)
        of = self.of
        known = [pid for pid in ids if pid in of]
        if len(known) == len(ids):
            return known  # the fan-out's usual case: every voted paper was seen by an earlier channel
        known = []
        for pid in ids:
            if pid not in of:
                paper = papers.get(pid)
                if paper is None:
                    continue
                self._learn(paper)
            known.append(pid)
        return known

    def _learn(self, paper: Paper) -> None:
        found = features(paper).keys
        keys = self.keys
        shared = found if keys is None else tuple(k for k in found if k in keys)
        self.of[paper.id] = shared
        bit = self.bit[paper.id] = 1 << len(self.bit)
        holders = self.holders
        for key in shared:
            holders[key] = holders.get(key, 0) | bit
        overlap = Counter(itertools.chain.from_iterable(self._by_feature.get(k, ()) for k in shared))
        for pid, count in overlap.items():
            by_count = self.shared_with[pid]
            by_count[count] = by_count.get(count, 0) | bit

    def bits(self, ids: Iterable[str]) -> int:
        """The bits of `ids` (papers already added), as one integer."""
        return sum(map(self.bit.__getitem__, ids))

    def count(self, features_of: tuple[str, ...], voted: int) -> int:
        """How many features in `features_of` each paper of `voted` has, summed over those papers."""
        holders = self.holders
        return sum((holders.get(key, 0) & voted).bit_count() for key in features_of)

    def overlap(self, paper: Paper, liked: int, disliked: int) -> tuple[int, int]:
        """`count(features(paper).keys, ...)` for `liked` and for `disliked`, from `shared_with` when
        the paper is in the pool (one pass over a handful of (n, bits) pairs)."""
        by_count = self.shared_with.get(paper.id)
        if by_count is None:
            keys = features(paper).keys
            return self.count(keys, liked), self.count(keys, disliked)
        up = down = 0
        for count, bits in by_count.items():
            up += count * (bits & liked).bit_count()
            down += count * (bits & disliked).bit_count()
        return up, down


class ChannelModel:
    """One channel's learned weights (module docstring), built from its voted papers.

    With a `pool`, only the weights of the pool's features are kept (all that papers of the pool can
    use); without one, every feature's. The model itself is the bits of its liked and disliked papers
    within the pool (`FeaturePool`): building it per channel is two sums of integers.
    """

    __slots__ = ("_disliked", "_down", "_down_bits", "_liked", "_papers", "_pool", "_scores", "_up", "_up_bits")

    def __init__(
        self, liked: Iterable[str], disliked: Iterable[str], papers: Mapping[str, Paper], pool: FeaturePool | None
    ) -> None:
        pool = pool if pool is not None else FeaturePool(None)
        self._pool = pool
        self._papers = papers
        self._liked = pool.add(papers, liked)
        self._disliked = pool.add(papers, disliked)
        self._up_bits = pool.bits(self._liked)
        self._down_bits = pool.bits(self._disliked)
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
        holders = self._pool.holders.get(feature, 0)
        return self._up * (holders & self._up_bits).bit_count() - self._down * (holders & self._down_bits).bit_count()

    def score(self, paper: Paper) -> float:
        found = self._scores.get(paper.id)
        if found is None:
            up, down = self._pool.overlap(paper, self._up_bits, self._down_bits)
            found = self._scores[paper.id] = (self._up * up - self._down * down) / features(paper).norm
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
        holders = [self._pool.holders.get(key, 0) for key in f.keys]
        ups = [(h & self._up_bits).bit_count() for h in holders]
        downs = [(h & self._down_bits).bit_count() for h in holders]
        pulls = [direction * (self._up * a - self._down * b) for a, b in zip(ups, downs, strict=True)]
        best_at = max(range(len(pulls)), key=pulls.__getitem__)
        if pulls[best_at] <= 0:
            return None
        best = f.keys[best_at]
        voted, counts = (self._liked, ups) if direction > 0 else (self._disliked, downs)
        of = self._pool.of
        # The strongest feature is a common one among the voted papers: the scan stops early.
        example = next((pid for pid in voted if pid != paper.id and best in of[pid]), None)
        if example is None:
            return None
        title = " ".join(self._papers[example].title.split())
        return LearnedEffect(direction, counts[best_at], f.labels[best], title[:100], round(value, 4))

    def strongest(self, paper: Paper, n: int = 3) -> list[FeatureWeight]:
        """The features of `paper` that move it most, strongest first (for `/papers why`)."""
        found = features(paper)
        weighted = [FeatureWeight(found.labels[f], self.weight(f)) for f in found.keys if self.weight(f)]
        weighted.sort(key=lambda fw: (-abs(fw.weight), fw.label))
        return weighted[:n]

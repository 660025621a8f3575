"""What a channel's votes teach: a small per-channel model that orders its digest, and says how.

The model is Rocchio relevance feedback over a paper's *features*: its Hugging Face AI keywords
(`keyword: web agent`), its authors (`author: Yann LeCun`) and the stems of its title words
(`title word: diffusion`). Abstracts are left out on purpose: keywords already summarise them, and
a few dozen features per paper keep a fan-out over thousands of channels cheap.

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

import functools
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
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


@functools.lru_cache(maxsize=1 << 16)
def _features(paper_id: str, title: str, keywords: tuple[str, ...], authors: tuple[str, ...]) -> dict[str, str]:
    """feature -> its label for a reader. Cached per paper: a fan-out sees the same papers many times."""
    found: dict[str, str] = {}
    for keyword in keywords:
        words = textnorm.words(keyword)
        if words:
            found.setdefault("k:" + " ".join(words), f"keyword: {' '.join(keyword.split())}")
    for author in authors:
        words = textnorm.words(author)
        if words:
            found.setdefault("a:" + " ".join(words), f"author: {' '.join(author.split())}")
    for word in textnorm.words(title):
        if len(word) < 3 or word.isdigit():
            continue
        stemmed = textnorm.stem(word)
        if stemmed not in _STOP:
            found.setdefault("t:" + stemmed, f"title word: {word}")
    return found


def features(paper: Paper) -> dict[str, str]:
    return _features(paper.id, paper.title, paper.ai_keywords, paper.authors)


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


class ChannelModel:
    """One channel's learned weights (module docstring), built from its voted papers."""

    __slots__ = ("_disliked", "_dislikes", "_liked", "_likes", "_n_disliked", "_n_liked")

    def __init__(self, liked: Sequence[Paper], disliked: Sequence[Paper]) -> None:
        self._liked = liked
        self._disliked = disliked
        self._n_liked = len(liked)
        self._n_disliked = len(disliked)
        # Counter over the chained features runs in C: a channel with 200 votes is a few thousand keys.
        self._likes = Counter(itertools.chain.from_iterable(features(p) for p in liked))
        self._dislikes = Counter(itertools.chain.from_iterable(features(p) for p in disliked))

    @classmethod
    def from_votes(cls, votes: Iterable[Vote], papers: Mapping[str, Paper]) -> ChannelModel:
        liked: list[Paper] = []
        disliked: list[Paper] = []
        for paper_id, value in net_votes(votes).items():
            paper = papers.get(paper_id)
            if paper is not None:
                (liked if value > 0 else disliked).append(paper)
        return cls(liked, disliked)

    @property
    def empty(self) -> bool:
        return not self._n_liked and not self._n_disliked

    def weight(self, feature: str) -> float:
        up = BETA * self._likes.get(feature, 0) / self._n_liked if self._n_liked else 0.0
        down = GAMMA * self._dislikes.get(feature, 0) / self._n_disliked if self._n_disliked else 0.0
        return up - down

    def score(self, paper: Paper) -> float:
        found = features(paper)
        if not found:
            return 0.0
        return sum(self.weight(f) for f in found) / math.sqrt(len(found))

    def order_key(self, paper: Paper) -> float:
        """Higher first: the learned score next to the community's upvotes."""
        return LEARNED_WEIGHT * self.score(paper) + UPVOTES_WEIGHT * math.log1p(max(0, paper.upvotes))

    def effect(self, paper: Paper) -> LearnedEffect | None:
        """What the votes did to `paper`, or None when they barely touch it."""
        value = self.score(paper)
        if abs(value) < MIN_EFFECT:
            return None
        direction = 1 if value > 0 else -1
        found = features(paper)
        best = max(found, key=lambda f: (direction * self.weight(f), f))
        if direction * self.weight(best) <= 0:
            return None
        voted, counts = (self._liked, self._likes) if direction > 0 else (self._disliked, self._dislikes)
        example = next((p for p in voted if best in features(p) and p.id != paper.id), None)
        if example is None:
            return None
        title = " ".join(example.title.split())
        return LearnedEffect(direction, counts[best], found[best], title[:100], round(value, 4))

    def strongest(self, paper: Paper, n: int = 3) -> list[FeatureWeight]:
        """The features of `paper` that move it most, strongest first (for `/papers why`)."""
        found = features(paper)
        weighted = [FeatureWeight(label, self.weight(f)) for f, label in found.items() if self.weight(f)]
        weighted.sort(key=lambda fw: (-abs(fw.weight), fw.label))
        return weighted[:n]

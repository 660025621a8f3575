"""Feedback benchmark (issue 12): does a channel's learned ranking find what its team wants?

Run: .venv/bin/python bench/feedback.py [--seed 7] [--max 5]

A simulated team per scenario, on the shared Hugging Face Daily Papers archive: the channel follows a
broad topic (`agent`), the team has a hidden, narrower interest (say `"web agent" OR browser`) that
it never types. For a month, every digest's topic section is shown with the channel's learned
ranking (`bot.learning`, through `bot.digest.select_entries`) and a few members vote on what they
see: 👍 on papers of the hidden interest, 👎 on the others, with some noise (a like by mistake). Then a
month without votes: each day's topic section is built twice, by the learned channel (its first
month's votes) and by the same channel without learning, and precision at 5 (the share of the
first five papers that fit the hidden interest) is averaged over the days, side by side, with the
share of the hidden interest among all matches (what a random order would score).

Prints figures only: no pass/fail.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from match import load_day_range  # noqa: E402  (bench/match.py, on sys.path above)

from bot import learning  # noqa: E402
from bot.digest import select_entries, topic_windows  # noqa: E402
from bot.learning import ChannelModel  # noqa: E402
from bot.query import match, parse  # noqa: E402
from bot.types import Channel, ChannelRef, ChannelSettings, Paper, Platform, Subscription  # noqa: E402

REF = ChannelRef(Platform.SLACK, "T1", "C-bench")


@dataclass(frozen=True)
class Scenario:
    topic: str
    interest: str
    train: str
    test: str


SCENARIOS = (
    Scenario(
        '"language model" OR llm',
        '"reinforcement learning" OR rl OR reward',
        "daily_papers_2025-07.json",
        "daily_papers_2025-09.json",
    ),
    Scenario(
        '"language model" OR llm',
        'agent OR agentic OR "tool use"',
        "daily_papers_2024-10.json",
        "daily_papers_2024-11.json",
    ),
    Scenario(
        "diffusion OR generation", 'video OR "text-to-video"', "daily_papers_2024-10.json", "daily_papers_2024-11.json"
    ),
    Scenario(
        "vision OR image OR visual",
        '"3d" OR "3d reconstruction" OR gaussian OR nerf',
        "daily_papers_2024-11.json",
        "daily_papers_2024-12.json",
    ),
    Scenario(
        '"language model" OR llm',
        "math OR mathematical OR reasoning",
        "daily_papers_2025-07.json",
        "daily_papers_2025-09.json",
    ),
)


def by_day(papers: list[Paper]) -> dict[date, list[Paper]]:
    days: dict[date, list[Paper]] = defaultdict(list)
    for p in papers:
        days[p.featured_days[0]].append(p)
    return dict(sorted(days.items()))


def topic_section(day: date, pool: list[Paper], topic: str, size: int, model: ChannelModel | None) -> list[Paper]:
    since = datetime.combine(day - timedelta(days=1), dtime(9), UTC)
    channel = Channel(
        REF, dtime(9), "UTC", settings=ChannelSettings(max_papers=size, trending=False), last_digest_at=since
    )
    sub = Subscription(1, REF, topic, "U1", since - timedelta(days=60))
    entries = select_entries(
        channel,
        trending_pool=[],
        topic_pool=pool,
        windows=topic_windows(channel, [sub]),
        posted=set(),
        papers_day=day,
        model=model,
    )
    return [e.paper for e in entries]


def run(
    s: Scenario, rng: random.Random, size: int, vote_rate: float, noise: float
) -> tuple[float, float, float, int, int]:
    topic, interest = parse(s.topic), parse(s.interest)
    train = by_day(load_day_range(s.train, 100_000))
    test = by_day(load_day_range(s.test, 100_000))
    known: dict[str, Paper] = {}
    tallies: dict[str, tuple[int, int]] = {}
    for day, pool in train.items():
        known.update((p.id, p) for p in pool)
        model = ChannelModel.from_tally(tallies, known) if sum(u + d for u, d in tallies.values()) >= 5 else None
        for paper in topic_section(day, pool, s.topic, size, model):
            for _ in range(3):  # three members look at each digest
                if rng.random() >= vote_rate:
                    continue
                liked = match(interest, paper) is not None
                if rng.random() < noise:
                    liked = not liked
                up, down = tallies.get(paper.id, (0, 0))
                tallies[paper.id] = (up + 1, down) if liked else (up, down + 1)
    model = ChannelModel.from_tally(tallies, known)
    learned, plain, base, days = 0.0, 0.0, 0.0, 0
    for day, pool in test.items():
        matches = [p for p in pool if match(topic, p) is not None]
        if len(matches) < size:
            continue  # precision at 5 needs five matches to choose from
        days += 1
        base += sum(match(interest, p) is not None for p in matches) / len(matches)
        for shown, total in (
            (topic_section(day, pool, s.topic, size, model), "learned"),
            (topic_section(day, pool, s.topic, size, None), "plain"),
        ):
            hits = sum(match(interest, p) is not None for p in shown) / size
            if total == "learned":
                learned += hits
            else:
                plain += hits
    votes = sum(u + d for u, d in tallies.values())
    return learned / max(days, 1), plain / max(days, 1), base / max(days, 1), days, votes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--max", type=int, default=5, help="papers per topic section (precision at this many)")
    ap.add_argument("--vote-rate", type=float, default=0.5, help="chance that one member votes on one paper")
    ap.add_argument("--noise", type=float, default=0.1, help="chance that a vote is the wrong way")
    ap.add_argument("--learned-weight", type=float, default=learning.LEARNED_WEIGHT, help="try another weight")
    args = ap.parse_args()
    learning.LEARNED_WEIGHT = args.learned_weight
    rng = random.Random(args.seed)
    print(
        f"precision at {args.max}: month 2 without votes, after month 1 of votes "
        f"({args.vote_rate:.0%} vote rate, {args.noise:.0%} noise, learned weight {args.learned_weight})"
    )
    print(
        f"{'topic':<26} {'hidden interest':<46} {'learned':>8} {'unlearned':>9} {'random':>7} {'days':>5} {'votes':>6}"
    )
    total_l = total_p = 0.0
    for s in SCENARIOS:
        learned, plain, base, days, votes = run(s, rng, args.max, args.vote_rate, args.noise)
        total_l += learned
        total_p += plain
        print(f"{s.topic[:26]:<26} {s.interest[:46]:<46} {learned:8.2f} {plain:9.2f} {base:7.2f} {days:5d} {votes:6d}")
    n = len(SCENARIOS)
    print(f"{'mean':<73} {total_l / n:8.2f} {total_p / n:9.2f}")


if __name__ == "__main__":
    main()

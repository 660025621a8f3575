"""Digest matching benchmark (DESIGN §12): 10,000 channels x 3 topics against one day-range of 200 papers.

Run: .venv/bin/python bench/match.py [--channels 10000] [--naive-budget 60]

Times `PaperIndex.evaluate_many` over every topic against the naive reference (`match()` for every topic and
paper), verifies both agree on the topics the naive side evaluated, and prints the figures. The naive side
runs on a subset and is extrapolated when the full run would take longer than the budget; the output says so.
Prints figures only: no pass/fail on time (DESIGN §12: targets are read, not asserted).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.acronyms import ACRONYMS
from bot.query import TopicQuery, match, parse
from bot.topic_index import PaperIndex
from bot.types import Paper

ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "hf-daily-papers"


def load_day_range(name: str, count: int) -> list[Paper]:
    """The first `count` papers of consecutive Daily Papers days from one archive month."""
    entries = json.loads((ARCHIVE / name).read_text())
    entries.sort(key=lambda e: e["paper"]["submittedOnDailyAt"])
    papers: dict[str, Paper] = {}
    for entry in entries:
        raw = entry["paper"]
        papers[raw["id"]] = Paper(
            id=raw["id"],
            title=" ".join(raw["title"].split()),
            abstract=" ".join(raw["summary"].split()),
            authors=tuple(a["name"] for a in raw["authors"]),
            published_at=datetime.fromisoformat(raw["publishedAt"].replace("Z", "+00:00")),
            featured_days=(date.fromisoformat(raw["submittedOnDailyAt"][:10]),),
            upvotes=int(raw["upvotes"]),
            ai_keywords=tuple(raw.get("ai_keywords") or ()),
        )
        if len(papers) == count:
            break
    return list(papers.values())


def query_pool(rng: random.Random, size: int) -> list[str]:
    """Realistic topics: real AI keywords (from other months), acronyms, authors, some OR/NOT/upvotes."""
    keywords: list[str] = []
    authors: list[str] = []
    for name in ("daily_papers_2024-06.json", "daily_papers_2025-04.json"):
        for entry in json.loads((ARCHIVE / name).read_text()):
            raw = entry["paper"]
            keywords.extend(k for k in raw.get("ai_keywords") or () if '"' not in k and len(k) < 40)
            authors.extend(a["name"] for a in raw["authors"][:1] if '"' not in a["name"])
    counts = Counter(keywords)
    # Most frequent first, ties by text: the same pool whatever the process's hash seed.
    common = sorted(counts, key=lambda k: (-counts[k], k))[:400]
    acronyms = list(ACRONYMS)

    def kw() -> str:
        k = rng.choice(common)
        return f'"{k}"' if " " in k else k

    shapes = [
        lambda: kw(),
        lambda: kw(),
        lambda: rng.choice(acronyms),
        lambda: f"{rng.choice(acronyms)} OR {kw()}",
        lambda: f"{kw()} -survey",
        lambda: f"({rng.choice(acronyms)} OR {rng.choice(acronyms)}) upvotes:>={rng.choice([5, 10, 20, 50])}",
        lambda: f'author:"{rng.choice(authors)}"',
        lambda: f"{kw()} {kw()}",
        lambda: f"title:{kw()}",
        lambda: f"{kw()} OR {kw()} OR {kw()}",
        lambda: f"{rng.choice(acronyms)} -{rng.choice(acronyms)}",
    ]
    pool: set[str] = set()
    while len(pool) < size:
        text = rng.choice(shapes)()
        if len(text) <= 300:
            pool.add(text)
    return sorted(pool)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--channels", type=int, default=10_000)
    ap.add_argument("--topics-per-channel", type=int, default=3)
    ap.add_argument("--pool", type=int, default=400, help="distinct realistic topic queries")
    ap.add_argument("--naive-budget", type=float, default=60.0, help="seconds before the naive side extrapolates")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    papers = load_day_range("daily_papers_2025-07.json", 200)
    days = sorted({d for p in papers for d in p.featured_days})
    pool = [parse(text) for text in query_pool(rng, args.pool)]
    # Popular topics are shared by many channels: a Zipf-like draw over the pool.
    weights = [1.0 / (rank + 1) for rank in range(len(pool))]
    topics: list[TopicQuery] = rng.choices(pool, weights=weights, k=args.channels * args.topics_per_channel)
    print(f"papers: {len(papers)} (Daily Papers {days[0]} .. {days[-1]})")
    print(f"topics: {len(topics):,} ({args.channels:,} channels x {args.topics_per_channel}), {len(pool)} distinct")

    start = time.perf_counter()
    index = PaperIndex(papers)
    built = time.perf_counter()
    indexed = index.evaluate_many(topics)
    indexed_s = time.perf_counter() - start
    print(f"index:  {indexed_s:.3f} s (build {built - start:.3f} s, evaluate {indexed_s - (built - start):.3f} s)")

    # Naive reference: every topic against every paper, as if no index existed (nothing shared between topics).
    naive_results: list[frozenset[str]] = []
    start = time.perf_counter()
    for query in topics:
        naive_results.append(frozenset(p.id for p in papers if match(query, p) is not None))
        if time.perf_counter() - start > args.naive_budget:
            break
    naive_done = len(naive_results)
    naive_s = time.perf_counter() - start
    if naive_done < len(topics):
        naive_total = naive_s * len(topics) / naive_done
        print(
            f"naive:  {naive_total:.1f} s EXTRAPOLATED from {naive_done:,} of {len(topics):,} topics "
            f"in {naive_s:.1f} s ({naive_done * len(papers):,} match() calls)"
        )
    else:
        naive_total = naive_s
        print(f"naive:  {naive_total:.3f} s ({naive_done * len(papers):,} match() calls)")

    print(f"speed-up: {naive_total / indexed_s:.0f}x")
    matches = sum(len(r) for r in indexed)
    print(f"matches: {matches:,} (topic, paper) pairs; {sum(1 for r in indexed if r):,} topics matched something")
    agree = all(a == b for a, b in zip(indexed[:naive_done], naive_results, strict=True))
    print(f"identical on the {naive_done:,} topics evaluated both ways: {'yes' if agree else 'NO'}")
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()

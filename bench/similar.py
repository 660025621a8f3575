"""More like this (issue 14): TF-IDF `similar` against the keyword `similar` it replaced, side by side.

Run: .venv/bin/python bench/similar.py [--papers 100000] [--queries 300] [--runs 200]

1. Quality, on the shared Hugging Face archive (every real paper in it, stored through the real storage
   layer). There are no human relevance labels, so the judgement is a pseudo-relevance one that neither
   method can see: two papers are related when they share at least two authors (the same group writing
   about its own line of work), or name the same GitHub repository. Authors are never part of either
   method's input (TF-IDF reads titles, abstracts and keywords; the keyword method reads AI keywords), so
   the judgement cannot be gamed by matching names. Queries: every paper with 2 to 30 authors and at least
   one related paper. For each method and query, over its top 10 (the paper itself left out):
   - hit@10: the share of queries with at least one related paper in the top 10;
   - recall@10: the share of a query's related papers found in the top 10 (averaged over queries);
   - MRR: the mean of 1 / rank of the first related paper (0 when none is in the top 10);
   - no-keyword hits: related papers found that share none of the query's AI keywords: related work the
     keyword method cannot reach by construction.
   Pairs by co-authors are noisy (groups change subject), so absolute figures are low for every method;
   the comparison is what the figure is for.
2. Speed, on the 100,000-paper synthetic corpus of bench/search.py (built once, cached): index build
   time and memory, and per-call latency (p50, p99) of `MoreLikeThis.like` next to the keyword `similar`.
   Target: under 100 ms per call with 100,000 stored papers. Prints figures only; no pass/fail on time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search import ARCHIVE, BUILD_VERSION, CACHE, build, cached_build, pct
from bot.clock import FixedClock
from bot.features.papers import keyword_similar
from bot.search import Search
from bot.similar import MoreLikeThis
from bot.sources.files import iter_daily_papers_files
from bot.types import Paper
from storage import Database

TOP = 10
NOW = datetime(2026, 1, 2, tzinfo=UTC)


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 1e6


def _authors(paper: Paper) -> frozenset[str]:
    return frozenset(" ".join(a.casefold().split()) for a in paper.authors if a.strip())


def related_pairs(papers: list[Paper]) -> dict[str, set[str]]:
    """paper id -> the papers the judgement calls related (>= 2 shared authors, or the same repository)."""
    by_author: dict[str, set[str]] = defaultdict(set)
    by_repo: dict[str, set[str]] = defaultdict(set)
    names = {}
    for p in papers:
        names[p.id] = _authors(p)
        for a in names[p.id]:
            by_author[a].add(p.id)
        if p.github_repo:
            by_repo[p.github_repo.rstrip("/").casefold()].add(p.id)
    related: dict[str, set[str]] = defaultdict(set)
    for p in papers:
        if not 2 <= len(names[p.id]) <= 30:
            continue
        shared: dict[str, int] = defaultdict(int)
        for a in names[p.id]:
            for other in by_author[a]:
                if other != p.id:
                    shared[other] += 1
        related[p.id] |= {o for o, n in shared.items() if n >= 2}
        if p.github_repo:
            related[p.id] |= by_repo[p.github_repo.rstrip("/").casefold()] - {p.id}
    return {k: v for k, v in related.items() if v}


def _keywords(paper: Paper) -> set[str]:
    return {" ".join(k.casefold().split()) for k in paper.ai_keywords}


async def quality(path: Path, sample: int) -> None:
    db = await Database.connect(f"sqlite+aiosqlite:///{path}")
    await db.upgrade()
    files = sorted(ARCHIVE.glob("daily_papers_*.json"))
    if not files:
        raise SystemExit(f"the shared archive is missing: no daily_papers_*.json in {ARCHIVE}")
    incoming = list(iter_daily_papers_files(files))
    await db.papers.upsert(incoming, seen_at=NOW)
    papers = [p for p in (await db.papers.get_many([p.id for p in incoming])).values() if not p.withdrawn]
    by_id = {p.id: p for p in papers}
    related = related_pairs(papers)
    queries = sorted(related)
    random.Random(14).shuffle(queries)
    queries = queries[:sample]
    print(f"quality corpus: {len(papers):,} real papers; {len(related):,} have a related paper; {len(queries)} queries")
    search = Search(db.papers, FixedClock(NOW))
    tfidf = MoreLikeThis(db.papers)
    await tfidf.index()  # built before the first query is timed or judged
    results: dict[str, dict[str, list[str]]] = {"keyword similar (before)": {}, "TF-IDF similar (now)": {}}
    for q in queries:
        base = by_id[q]
        try:
            listed = await keyword_similar(search, base)
            results["keyword similar (before)"][q] = [p.paper.id for p in listed.papers][:TOP]
        except Exception:  # no keywords to search with: the old command answered with an error
            results["keyword similar (before)"][q] = []
        like = await tfidf.like(base, limit=TOP)
        assert like is not None
        results["TF-IDF similar (now)"][q] = [r.paper_id for r in like]
    await tfidf.close()
    await db.close()
    head = f"{'method':26} | {'hit@10':>7} | {'recall@10':>9} | {'MRR':>6} | {'no-keyword hits':>15}"
    print(head)
    print("-" * len(head))
    for method, found in results.items():
        hits = recall = mrr = 0.0
        no_keyword = 0
        for q in queries:
            top = found[q]
            good = [i for i, pid in enumerate(top) if pid in related[q]]
            hits += bool(good)
            recall += len(good) / min(TOP, len(related[q]))
            mrr += 1 / (good[0] + 1) if good else 0.0
            no_keyword += sum(1 for i in good if not (_keywords(by_id[top[i]]) & _keywords(by_id[q])))
        n = len(queries)
        print(f"{method:26} | {hits / n:>7.3f} | {recall / n:>9.3f} | {mrr / n:>6.3f} | {no_keyword:>15,}")
    print("judgement: related = shares >= 2 authors or the same GitHub repository (neither method reads authors);")
    print("recall@10 divides by min(10, related papers), so 1.0 means the top 10 held every one it could.")


async def speed(path: Path, runs: int) -> None:
    db = await Database.connect(f"sqlite+aiosqlite:///{path}")
    try:
        total = await db.papers.count()
        ids = [pid for pid, _ in await db.papers.corpus()]
        rng = random.Random(7)
        chosen = list((await db.papers.get_many(rng.sample(ids, min(runs, len(ids))))).values())
        related = MoreLikeThis(db.papers)
        rss = _rss_mb()
        started = time.perf_counter()
        await related.index()
        built = time.perf_counter() - started
        grown = _rss_mb() - rss
        index = await related.index()
        for paper in chosen[:5]:  # warm
            await related.like(paper, limit=TOP)
        tfidf_ms: list[float] = []
        for paper in chosen:
            t = time.perf_counter()
            await related.like(paper, limit=TOP)
            tfidf_ms.append((time.perf_counter() - t) * 1000)
        search = Search(db.papers, FixedClock(NOW))
        keyword_ms: list[float] = []
        for paper in chosen[: max(20, runs // 4)]:
            t = time.perf_counter()
            try:
                await keyword_similar(search, paper)
            except Exception:
                continue
            keyword_ms.append((time.perf_counter() - t) * 1000)
        await related.close()
    finally:
        await db.close()
    print(f"speed corpus: {total:,} papers in {path}")
    assert index is not None
    print(
        f"index build: {built:.1f} s (once, in a worker thread); {len(index.postings):,} terms; index "
        f"~{index.approx_bytes() / 1e6:.0f} MB; RSS grew {grown:.0f} MB while building (the corpus text, freed after)"
    )
    print(f"{'method':26} | {'calls':>5} | {'p50':>8} | {'p99':>8}")
    for name, ms in (("TF-IDF similar (now)", tfidf_ms), ("keyword similar (before)", keyword_ms)):
        print(f"{name:26} | {len(ms):>5} | {statistics.median(ms):>6.1f}ms | {pct(ms, 0.99):>6.1f}ms")
    print("target (issue 14): under 100 ms per call with 100,000 stored papers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    if not args.skip_quality:
        for stale in ("similar-archive.db", "similar-archive.db-wal", "similar-archive.db-shm"):
            (CACHE / stale).unlink(missing_ok=True)  # rebuilt every run: it is small
        asyncio.run(quality(CACHE / "similar-archive.db", args.queries))
    if args.skip_speed:
        return
    path = CACHE / f"search-{args.papers}.db"
    fresh = path.exists() and asyncio.run(cached_build(path)) == f"{BUILD_VERSION}:{args.papers}"
    if not fresh:
        print(f"building {path} (once; cached for later runs, shared with bench/search.py)")
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        asyncio.run(build(path, args.papers))
    asyncio.run(speed(path, args.runs))


if __name__ == "__main__":
    main()

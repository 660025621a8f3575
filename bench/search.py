"""Search benchmark (DESIGN §12): 100,000 papers, `/papers search` against raw FTS5 and a naive scan.

Run: .venv/bin/python bench/search.py [--papers 100000] [--runs 30] [--rebuild]

Builds (once, cached under bench/.cache/) a SQLite database of synthetic papers made by recombining the
real titles and abstracts of the shared Hugging Face archive, through the real storage layer (migrations and
`upsert`, so the FTS table is the one the bot uses). Then, for 20 realistic topic queries, it times the
search command's own path (`bot.search.Search.run`: full-text window, exact matcher, ranking
blend, total) side by side with a bare stdlib-sqlite3
`SELECT rowid, bm25(t) FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT 10` over the same FTS5 table and the same
terms, and a naive full scan (match() over every paper). Prints figures only; no pass/fail on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.clock import FixedClock
from bot.query import candidate_phrases, match, parse
from bot.ranking import rank
from bot.search import Search
from bot.types import Paper, Source
from storage import Database
from storage.search import fts5_match

ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "hf-daily-papers"
CACHE = Path(__file__).resolve().parent / ".cache"
BUILD_VERSION = "4"  # 2: joined view of hyphenated text; 3: external content; 4: stored in arrival order

# Realistic topic queries, as users type them; raw FTS5 gets the same terms (`candidate_phrases`).
QUERIES: list[str] = [
    "diffusion",
    'moe OR "mixture of experts"',
    "llm",
    "rl",
    "bilevel",
    '"video generation"',
    "rag",
    "vlm",
    "agent -survey",
    '"chain of thought" OR reasoning',
    '"speech recognition"',
    '"3d gaussian splatting"',
    '"code generation"',
    "quantization",
    '"long context"',
    "robot OR robotics",
    "dpo",
    "tokenizer",
    '"world model"',
    'title:"model merging"',
]


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def load_archive() -> list[Paper]:
    papers: dict[str, Paper] = {}
    for path in sorted(ARCHIVE.glob("daily_papers_*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8")):
            raw = entry["paper"]
            day = raw.get("submittedOnDailyAt")
            published = raw.get("publishedAt")
            papers[raw["id"]] = Paper(
                id=raw["id"],
                title=_clean(raw.get("title")),
                abstract=_clean(raw.get("summary")),
                authors=tuple(_clean(a.get("name")) for a in raw.get("authors", [])),
                published_at=datetime.fromisoformat(published.replace("Z", "+00:00")) if published else None,
                featured_days=(date.fromisoformat(day[:10]),) if day else (),
                upvotes=int(raw.get("upvotes") or 0),
                ai_summary=_clean(raw.get("ai_summary")) or None,
                ai_keywords=tuple(raw.get("ai_keywords") or ()),
                sources=(Source.HF,),
            )
    return list(papers.values())


def synthesise(real: Sequence[Paper], count: int, seed: int = 1234) -> list[Paper]:
    """`count` papers: the real ones, then recombinations (title halves, abstract sentences) of two real ones."""
    rng = random.Random(seed)
    out = list(real[:count])
    start = date(2023, 5, 1)
    i = 0
    while len(out) < count:
        a, b = rng.choice(real), rng.choice(real)
        ta, tb = a.title.split(), b.title.split()
        title = " ".join(ta[: max(1, len(ta) // 2)] + tb[len(tb) // 2 :])
        sa, sb = a.abstract.split(". "), b.abstract.split(". ")
        abstract = ". ".join(sa[: max(1, len(sa) // 2)] + sb[len(sb) // 2 :])
        day = start + timedelta(days=rng.randrange(0, 930))
        out.append(
            Paper(
                id=f"{3000 + i // 90000}.{10000 + i % 90000:05d}",
                title=title,
                abstract=abstract,
                authors=(a.authors[:3] + b.authors[:3]),
                published_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                featured_days=(day,),
                upvotes=rng.randrange(0, 300),
                ai_keywords=(a.ai_keywords[:5] + b.ai_keywords[:5]),
                sources=(Source.HF,),
            )
        )
        i += 1
    # Stored in arrival order, as a bot ingesting the daily lists for years stores them: `seq` grows with
    # time (the real papers first, then the synthetic ones by day; a stable sort keeps ties in id order).
    return sorted(out, key=lambda p: p.featured_days[0] if p.featured_days else date.min)


async def build(path: Path, count: int) -> None:
    papers = synthesise(load_archive(), count)
    db = await Database.connect(f"sqlite+aiosqlite:///{path}")
    try:
        await db.upgrade()
        started = time.perf_counter()
        seen = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(0, len(papers), 2000):
            await db.papers.upsert(papers[i : i + 2000], seen_at=seen)
            print(f"\r  built {min(i + 2000, len(papers)):,}/{len(papers):,} papers", end="", flush=True)
        print(f"  ({time.perf_counter() - started:.1f} s)")
        await db.kv.set("bench.search.build", f"{BUILD_VERSION}:{count}")
    finally:
        await db.close()


async def cached_build(path: Path) -> str | None:
    db = await Database.connect(f"sqlite+aiosqlite:///{path}")
    try:
        return await db.kv.get("bench.search.build")
    except Exception:
        return None
    finally:
        await db.close()


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def search_for(db: Database) -> Search:
    return Search(db.papers, FixedClock(datetime(2026, 1, 2, tzinfo=UTC)))


async def measure(path: Path, runs: int, naive_sample: int) -> None:
    db = await Database.connect(f"sqlite+aiosqlite:///{path}")
    search = search_for(db)
    raw = sqlite3.connect(path)
    raw_sql = (
        "SELECT rowid, bm25(papers_fts) FROM papers_fts WHERE papers_fts MATCH ? ORDER BY bm25(papers_fts) LIMIT 10"
    )
    all_search: list[float] = []
    all_raw: list[float] = []
    rows = []
    try:
        total = await db.papers.count()
        print(f"corpus: {total:,} papers in {path}")
        for text in QUERIES:
            query = parse(text)
            phrases = candidate_phrases(query)
            match = fts5_match(phrases or [])
            for _ in range(3):  # warm caches on both sides
                await search.run(query, limit=10)
                raw.execute(raw_sql, (match,)).fetchall()
            search_ms: list[float] = []
            raw_ms: list[float] = []
            found = 0
            for _ in range(runs):
                t = time.perf_counter()
                _, found = await search.run(query, limit=10)
                search_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                raw.execute(raw_sql, (match,)).fetchall()
                raw_ms.append((time.perf_counter() - t) * 1000)
            all_search += search_ms
            all_raw += raw_ms
            shown, _ = await search.run(query, limit=10)
            agree = await agreement(db, query, [p.paper.id for p in shown])
            rows.append((text, found, search_ms, raw_ms, agree))
        naive = await naive_scan(db, naive_sample, total)
    finally:
        raw.close()
        await db.close()

    head = (
        f"{'query':34} {'matches':>8} | {'search p50':>10} {'p99':>7} | {'raw p50':>8} {'p99':>7} | {'p50 x':>6}"
        f" | {'top10 agree':>11}"
    )
    print(head)
    print("-" * len(head))
    for text, found, search_ms, raw_ms, agree in rows:
        s50, w50 = statistics.median(search_ms), statistics.median(raw_ms)
        print(
            f"{text[:34]:34} {found:>8,} | {s50:>8.1f}ms {pct(search_ms, 0.99):>5.1f}ms | "
            f"{w50:>6.1f}ms {pct(raw_ms, 0.99):>5.1f}ms | {s50 / w50:>5.2f}x | {agree:>8}/10"
        )
    print("-" * len(head))
    s50, w50 = statistics.median(all_search), statistics.median(all_raw)
    print(
        f"{'all queries':34} {'':>8} | {s50:>8.1f}ms {pct(all_search, 0.99):>5.1f}ms | "
        f"{w50:>6.1f}ms {pct(all_raw, 0.99):>5.1f}ms | {s50 / w50:>5.2f}x"
    )
    print(
        f"naive full scan (match() over every paper, measured on {naive_sample:,}, scaled to {total:,}): "
        f"{naive:,.0f} ms per query"
    )
    print("targets (DESIGN §12): search p50 at most 1.5x raw FTS5 bm25, p99 under 100 ms")
    print("search = the `/papers search` path: full-text window + exact matcher + ranking blend + total;")
    print("raw = stdlib sqlite3 over the same FTS5 table and terms, LIMIT 10, rowids only.")
    print("top10 agree = how many of search's top 10 the exhaustive ranking (the blend over every full-text")
    print("match, relevance normalised by the best of them all) also puts in its top 10; target >= 9.")
    print_sizes(path, total)


def print_sizes(path: Path, papers: int) -> None:
    """Bytes per paper by table and index (SQLite's dbstat), and the text itself for comparison."""
    con = sqlite3.connect(path)
    try:
        sizes = con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY sum(pgsize) DESC").fetchall()
        text_bytes = con.execute(
            "SELECT sum(length(CAST(title AS BLOB)) + length(CAST(abstract AS BLOB)) + "
            "length(CAST(keywords_text AS BLOB)) + length(CAST(authors_text AS BLOB)) + "
            "length(CAST(joined_text AS BLOB))) FROM papers"
        ).fetchone()[0]
    finally:
        con.close()
    n = max(1, papers)
    total = sum(size for _, size in sizes)
    print(f"database: {total / 1e6:,.0f} MB, {total / n:,.0f} bytes per paper; by table/index (bytes per paper):")
    for name, size in sizes[:12]:
        print(f"  {name:34} {size / n:>8,.0f}")
    print(f"the indexed text itself: {text_bytes / n:,.0f} bytes per paper; beyond it: {(total - text_bytes) / n:,.0f}")
    print("target (issue 16): at most 4,096 bytes per paper beyond the text itself")


async def agreement(db: Database, query: object, shown: list[str]) -> int:
    """Overlap of `shown` with the top 10 of the blend over every full-text match (the exhaustive ranking)."""
    from bot.query import TopicQuery

    assert isinstance(query, TopicQuery)
    phrases = candidate_phrases(query)
    if phrases is None:
        return len(shown)
    total = (await db.papers.search_window(phrases, 1)).total
    every = await db.papers.search_window(phrases, max(1, total))
    best, _ = rank(query, every.candidates, today=date(2026, 1, 2), limit=10)
    return len({p.paper.id for p in best} & set(shown))


async def naive_scan(db: Database, sample: int, total: int) -> float:
    """The obvious implementation: judge every paper with match(), then sort. Timed on a sample."""
    papers = await db.papers.recent(sample)
    queries = [parse(q) for q in QUERIES[:5]]
    started = time.perf_counter()
    for query in queries:
        hits = [p for p in papers if match(query, p) is not None]
        hits.sort(key=lambda p: -p.upvotes)
    per_query = (time.perf_counter() - started) * 1000 / len(queries)
    return per_query * total / max(1, len(papers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--naive-sample", type=int, default=5_000)
    parser.add_argument(
        "--cache-dir", type=Path, default=CACHE, help="where the built database lives (a million papers: several GB)"
    )
    args = parser.parse_args()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    path = args.cache_dir / f"search-{args.papers}.db"
    fresh = path.exists() and asyncio.run(cached_build(path)) == f"{BUILD_VERSION}:{args.papers}"
    if args.rebuild or not fresh:
        print(f"building {path} (once; cached for later runs)")
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        asyncio.run(build(path, args.papers))
    asyncio.run(measure(path, args.runs, args.naive_sample))


if __name__ == "__main__":
    main()

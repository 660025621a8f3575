"""Search benchmark (DESIGN §12): 100,000 papers, `PaperRepository.search_candidates(limit=200)` against raw FTS5.

Run: .venv/bin/python bench/search.py [--papers 100000] [--runs 30] [--rebuild]

Builds (once, cached under bench/.cache/) a SQLite database of synthetic papers made by recombining the
real titles and abstracts of the shared Hugging Face archive, through the real storage layer (migrations and
`upsert`, so the FTS table is the one the bot uses). Then, for ~20 realistic topic queries, it times
`search_candidates(phrases, limit=200)` (match, bm25 ranking, loading 200 Papers with their days) side by
side with a bare stdlib-sqlite3 `SELECT rowid, bm25(t) FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT 10` over
the same FTS5 table and the same terms. Prints figures only: no pass/fail on time (targets are read).
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

from bot.types import Paper, Source
from storage import Database
from storage.search import fts5_match

ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "hf-daily-papers"
CACHE = Path(__file__).resolve().parent / ".cache"
BUILD_VERSION = "1"

# (label, phrases) as the topic query language hands them to storage: OR over phrases.
QUERIES: list[tuple[str, list[list[str]]]] = [
    ("diffusion", [["diffusion"]]),
    ("mixture of experts | moe", [["mixture", "of", "experts"], ["moe"]]),
    ("large language model | llm", [["large", "language", "model"], ["llm"]]),
    ("reinforcement learning | rl", [["reinforcement", "learning"], ["rl"]]),
    ("bilevel", [["bilevel"]]),
    ("video generation", [["video", "generation"]]),
    ("retrieval augmented generation | rag", [["retrieval", "augmented", "generation"], ["rag"]]),
    ("vision language model | vlm", [["vision", "language", "model"], ["vlm"]]),
    ("agent", [["agent"]]),
    ("chain of thought | reasoning", [["chain", "of", "thought"], ["reasoning"]]),
    ("speech recognition", [["speech", "recognition"]]),
    ("3d gaussian splatting", [["3d", "gaussian", "splatting"]]),
    ("code generation", [["code", "generation"]]),
    ("quantization", [["quantization"]]),
    ("long context", [["long", "context"]]),
    ("robot | robotics", [["robot"], ["robotics"]]),
    ("direct preference optimization | dpo", [["direct", "preference", "optimization"], ["dpo"]]),
    ("tokenizer", [["tokenizer"]]),
    ("world model", [["world", "model"]]),
    ("model merging", [["model", "merging"]]),
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
    return out


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


async def measure(path: Path, runs: int) -> None:
    db = await Database.connect(f"sqlite+aiosqlite:///{path}")
    raw = sqlite3.connect(path)
    raw_sql = (
        "SELECT rowid, bm25(papers_fts) FROM papers_fts WHERE papers_fts MATCH ? ORDER BY bm25(papers_fts) LIMIT 10"
    )
    all_repo: list[float] = []
    all_raw: list[float] = []
    rows = []
    try:
        total = await db.papers.count()
        print(f"corpus: {total:,} papers in {path}")
        for label, phrases in QUERIES:
            match = fts5_match(phrases)
            for _ in range(3):  # warm caches on both sides
                await db.papers.search_candidates(phrases, 200)
                raw.execute(raw_sql, (match,)).fetchall()
            repo_ms: list[float] = []
            raw_ms: list[float] = []
            hits = 0
            for _ in range(runs):
                t = time.perf_counter()
                hits = len(await db.papers.search_candidates(phrases, 200))
                repo_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                raw.execute(raw_sql, (match,)).fetchall()
                raw_ms.append((time.perf_counter() - t) * 1000)
            matched = raw.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH ?", (match,)).fetchone()[0]
            all_repo += repo_ms
            all_raw += raw_ms
            rows.append((label, matched, hits, repo_ms, raw_ms))
    finally:
        raw.close()
        await db.close()

    head = (
        f"{'query':38} {'matches':>8} {'got':>4} | {'repo p50':>9} {'p99':>7} | "
        f"{'raw p50':>8} {'p99':>7} | {'p50 x':>6}"
    )
    print(head)
    print("-" * len(head))
    for label, matched, hits, repo_ms, raw_ms in rows:
        r50, w50 = statistics.median(repo_ms), statistics.median(raw_ms)
        print(
            f"{label:38} {matched:>8,} {hits:>4} | {r50:>7.1f}ms {pct(repo_ms, 0.99):>5.1f}ms | "
            f"{w50:>6.1f}ms {pct(raw_ms, 0.99):>5.1f}ms | {r50 / w50:>5.2f}x"
        )
    print("-" * len(head))
    r50, w50 = statistics.median(all_repo), statistics.median(all_raw)
    print(
        f"{'all queries':38} {'':>8} {'':>4} | {r50:>7.1f}ms {pct(all_repo, 0.99):>5.1f}ms | "
        f"{w50:>6.1f}ms {pct(all_raw, 0.99):>5.1f}ms | {r50 / w50:>5.2f}x"
    )
    print("targets (DESIGN §12): p50 at most 1.5x raw FTS5 bm25, p99 under 100 ms")
    print("note: repo = search_candidates(limit=200): match + bm25 + loading 200 Papers (rows and days) through")
    print("      SQLAlchemy/aiosqlite; raw = stdlib sqlite3, LIMIT 10, rowids only.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"search-{args.papers}.db"
    fresh = path.exists() and asyncio.run(cached_build(path)) == f"{BUILD_VERSION}:{args.papers}"
    if args.rebuild or not fresh:
        print(f"building {path} (once; cached for later runs)")
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        asyncio.run(build(path, args.papers))
    asyncio.run(measure(path, args.runs))


if __name__ == "__main__":
    main()

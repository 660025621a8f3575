"""Search benchmark (DESIGN §12, issue 16): `/papers search` at 100,000 or 1,000,000 papers, beside the
database's own ranked full-text search.

Run: .venv/bin/python bench/search.py [--papers 1000000] [--runs 30] [--database postgresql://...]
     [--no-agreement] [--rebuild] [--cache-dir DIR]

Builds (once, cached: under bench/.cache/ for SQLite, a `paperboy_bench_search_<N>` database on the given
PostgreSQL server) synthetic papers made by recombining the real titles and abstracts of the shared
Hugging Face archive, through the real storage layer (migrations and `upsert`), stored in arrival order.
A cached database gets later migrations at the start of a run. Then, for 20 realistic topic queries, it
times the search command's own path (`bot.search.Search.run`) side by side with the database's own ranked
top 10 over the same terms: SQLite `SELECT rowid, bm25(t) FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT 10`
or Postgres `ORDER BY ts_rank_cd(search_tsv, q) DESC LIMIT 10` over the GIN index. Per query it prints how
many of search's top 10 are in the top 10 of the same ranking applied to every full-text match (loaded and
scored one by one: minutes at a million papers). Prints figures only; no pass/fail on time.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.clock import FixedClock
from bot.query import TopicQuery, candidate_phrases, match, parse
from bot.ranking import order_key, rank_papers
from bot.search import Search
from bot.types import HitRange, ListedPaper, Paper, Source
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


async def build(url: str, count: int) -> None:
    papers = synthesise(load_archive(), count)
    db = await Database.connect(url)
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


async def cached_build(url: str) -> str | None:
    db = await Database.connect(url)
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


class RawFts:
    """The database's own full-text top 10, nothing else: SQLite FTS5 bm25, or Postgres ts_rank_cd + GIN."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite: sqlite3.Connection | None = None
        self.pg: Any = None

    async def open(self) -> None:
        if self.url.startswith("sqlite"):
            self.sqlite = sqlite3.connect(self.url.split(":///", 1)[1])
        else:
            import asyncpg

            self.pg = await asyncpg.connect(self.url.replace("postgresql+asyncpg://", "postgresql://"))

    async def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.pg is not None:
            await self.pg.close()

    async def top10(self, phrases: list[tuple[str, ...]]) -> int:
        if self.sqlite is not None:
            sql = (
                "SELECT rowid, bm25(papers_fts) FROM papers_fts WHERE papers_fts MATCH ? "
                "ORDER BY bm25(papers_fts) LIMIT 10"
            )
            return len(self.sqlite.execute(sql, (fts5_match(phrases),)).fetchall())
        tsquery = " || ".join(f"phraseto_tsquery('english', ${i + 1})" for i in range(len(phrases)))
        sql = (
            f"SELECT p.seq FROM papers p, (SELECT {tsquery} AS q) q WHERE p.search_tsv @@ q.q "
            "ORDER BY ts_rank_cd(p.search_tsv, q.q) DESC LIMIT 10"
        )
        return len(await self.pg.fetch(sql, *(" ".join(words) for words in phrases)))


async def measure(url: str, runs: int, naive_sample: int, *, agree: bool) -> None:
    db = await Database.connect(url)
    await db.upgrade()  # a cached database gets the migrations that came after it was built
    search = search_for(db)
    raw = RawFts(url)
    await raw.open()
    all_search: list[float] = []
    all_raw: list[float] = []
    rows = []
    try:
        total = await db.papers.count()
        where = url.split("@")[-1] if "@" in url else url
        print(f"corpus: {total:,} papers in {where}")
        for text in QUERIES:
            query = parse(text)
            phrases = list(candidate_phrases(query) or [])
            for _ in range(3):  # warm caches on both sides
                await search.run(query, limit=10)
                await raw.top10(phrases)
            search_ms: list[float] = []
            raw_ms: list[float] = []
            for _ in range(runs):
                t = time.perf_counter()
                result = await search.run(query, limit=10)
                search_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                await raw.top10(phrases)
                raw_ms.append((time.perf_counter() - t) * 1000)
            all_search += search_ms
            all_raw += raw_ms
            agreed, exact = await agreement(db, query, [p.paper.id for p in result.shown]) if agree else (None, None)
            found = f"{'~' if result.estimated else ''}{result.total:,}"
            rows.append((text, found, search_ms, raw_ms, agreed, exact))
        naive = await naive_scan(db, naive_sample, total)
    finally:
        await raw.close()
        await db.close()

    side = "raw FTS5" if url.startswith("sqlite") else "raw GIN"
    head = (
        f"{'query':34} {'matches':>9} | {'search p50':>10} {'p99':>7} | {side + ' p50':>12} {'p99':>7} | "
        f"{'p50 x':>6} | {'top10 agree':>11} | {'exact matches':>13}"
    )
    print(head)
    print("-" * len(head))
    for text, found, search_ms, raw_ms, agreed, exact in rows:
        s50, w50 = statistics.median(search_ms), statistics.median(raw_ms)
        shown = "-" if agreed is None else str(agreed)
        counted = "-" if exact is None else f"{exact:,}"
        print(
            f"{text[:34]:34} {found:>9} | {s50:>8.1f}ms {pct(search_ms, 0.99):>5.1f}ms | "
            f"{w50:>10.1f}ms {pct(raw_ms, 0.99):>5.1f}ms | {s50 / w50:>5.2f}x | {shown:>8}/10 | {counted:>13}"
        )
    print("-" * len(head))
    s50, w50 = statistics.median(all_search), statistics.median(all_raw)
    print(
        f"{'all queries':34} {'':>9} | {s50:>8.1f}ms {pct(all_search, 0.99):>5.1f}ms | "
        f"{w50:>10.1f}ms {pct(all_raw, 0.99):>5.1f}ms | {s50 / w50:>5.2f}x"
    )
    print(
        f"naive full scan (match() over every paper, measured on {naive_sample:,}, scaled to {total:,}): "
        f"{naive:,.0f} ms per query"
    )
    print("targets (issue 16): at 1,000,000 papers p50 < 10 ms and p99 < 50 ms on SQLite, p99 < 100 ms on")
    print("PostgreSQL; top10 agree >= 9 on every query.")
    print("search = the `/papers search` path (bot.search: block ceilings, exact matcher, ranking blend, total);")
    print(f"{side} = the database's own ranked full-text top 10 over the same terms, ids only.")
    print("matches: ~ marks an estimate (the search stopped early and says 'about N').")
    print("top10 agree = how many of search's top 10 are in the top 10 of the same blend applied to every")
    print("full-text match (loaded and scored one by one, no early stop); exact matches = how many of those")
    print("the matcher kept: what `matches` estimates when it has a ~.")
    if url.startswith("sqlite"):
        print_sizes(Path(url.split(":///", 1)[1]), total)
    else:
        await print_postgres_sizes(url, total)


async def print_postgres_sizes(url: str, papers: int) -> None:
    import asyncpg

    con = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        sizes = await con.fetch(
            "SELECT c.relname, pg_total_relation_size(c.oid) AS size FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
            "ORDER BY size DESC LIMIT 8"
        )
        text_bytes = await con.fetchval(
            "SELECT sum(octet_length(title) + octet_length(abstract) + octet_length(keywords_text) + "
            "octet_length(authors_text) + octet_length(joined_text)) FROM papers"
        )
    finally:
        await con.close()
    n = max(1, papers)
    total = sum(row["size"] for row in sizes)
    print(f"database: {total / 1e6:,.0f} MB, {total / n:,.0f} bytes per paper; by table with its indexes and TOAST:")
    for row in sizes:
        print(f"  {row['relname']:34} {row['size'] / n:>8,.0f}")
    print(f"the indexed text itself: {int(text_bytes or 0) / n:,.0f} bytes per paper")


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


async def agreement(db: Database, query: TopicQuery, shown: list[str]) -> tuple[int, int]:
    """Overlap of `shown` with the top 10 of the blend over every full-text match (the exhaustive ranking).

    Streams: every match of every block is loaded (2,000 at a time), judged and scored by
    `bot.ranking.rank_papers`, and only the best 10 so far are kept. No ceiling, no early stop.
    """
    phrases = candidate_phrases(query)
    if phrases is None:
        return len(shown), 0
    last = max(b.block for b in await db.papers.search_blocks())
    hits = await db.papers.searching(lambda reads: reads.block_hits(phrases, [HitRange(0, last)]))
    today = date(2026, 1, 2)
    best: list[ListedPaper] = []
    matched = 0
    for i in range(0, len(hits), 2000):
        found = await db.papers.by_seq([h.seq for h in hits[i : i + 2000]])
        ranked = rank_papers(query, list(found.values()), today=today)
        matched += len(ranked)
        best = sorted([*best, *ranked], key=order_key)[:10]
    return len({p.paper.id for p in best} & set(shown)), matched


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
    parser.add_argument(
        "--database",
        help="a PostgreSQL server URL: build (once) and search a database of its own there instead of SQLite",
    )
    parser.add_argument(
        "--no-agreement", action="store_true", help="skip the exhaustive ranking (minutes at a million papers)"
    )
    parser.add_argument("--build-only", action="store_true", help="build (or check) the database, measure nothing")
    args = parser.parse_args()
    if args.database:
        url = asyncio.run(postgres_bench_database(args.database, args.papers, rebuild=args.rebuild))
        fresh = asyncio.run(cached_build(url)) == f"{BUILD_VERSION}:{args.papers}"
        if not fresh:
            print(f"building {args.papers:,} papers in PostgreSQL (once; kept for later runs)")
            asyncio.run(build(url, args.papers))
    else:
        args.cache_dir.mkdir(parents=True, exist_ok=True)
        path = args.cache_dir / f"search-{args.papers}.db"
        url = f"sqlite+aiosqlite:///{path}"
        fresh = path.exists() and asyncio.run(cached_build(url)) == f"{BUILD_VERSION}:{args.papers}"
        if args.rebuild or not fresh:
            print(f"building {path} (once; cached for later runs)")
            for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                stale.unlink(missing_ok=True)
            asyncio.run(build(url, args.papers))
    if not args.build_only:
        asyncio.run(measure(url, args.runs, args.naive_sample, agree=not args.no_agreement))


async def postgres_bench_database(server_url: str, papers: int, *, rebuild: bool) -> str:
    """The URL of `paperboy_bench_search_<papers>` on `server_url`'s server, created when missing.

    Kept between runs like the SQLite cache (a million papers take a while to build); --rebuild drops it.
    """
    from sqlalchemy import make_url, text
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.config import normalise_database_url

    url = make_url(normalise_database_url(server_url))
    name = f"paperboy_bench_search_{papers}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            if rebuild:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = (await conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})).first()
            if exists is None:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


if __name__ == "__main__":
    main()

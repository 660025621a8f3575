"""Papers: merge-upsert from any source, day and range listings, full-text candidates, upvote history."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import (
    Float,
    Integer,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.types import (
    SEARCH_BLOCK,
    ArtifactKind,
    BlockHit,
    HitRange,
    Paper,
    SearchBlock,
    SearchWindow,
    SeedHits,
    Source,
    UpsertResult,
)
from storage.models import PaperBlockRow, PaperDayRow, PaperRow, UpvoteSampleRow
from storage.search import FTS_WEIGHTS, clean_phrases, fts5_match, joined_forms, transliterated_forms

if TYPE_CHECKING:
    from bot.ports import SearchReads

logger = logging.getLogger(__name__)
T = TypeVar("T")

_UPSERT_ATTEMPTS = 3
DAY_CACHE_SECONDS = 30.0
_DAY_CACHE_ENTRIES = 64
_MISS = object()
_CHUNK = 900  # bound parameters per IN (...) list; well under SQLite's limit
_PAPERS = cast(Table, PaperRow.__table__)
_BM25 = "bm25(papers_fts, " + ", ".join(str(w) for w in FTS_WEIGHTS) + ")"
POSTGRES_SEED_PAPERS = 2 * SEARCH_BLOCK
"""Postgres: a search's seed looks at the matches among this many newest papers (`_seed_sql`)."""
_BLOCK_ARMS = 64  # blocks per full-text statement (SQLite: one UNION ALL arm each)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _as_date(value: date | str | None) -> date | None:
    """A date column read through `text()`: SQLite hands back its ISO text, Postgres a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _union(old: Sequence[Any], new: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys((*old, *new)))


def _normalised(p: Paper) -> Paper:
    """The canonical form stored and compared: sorted unique days, unique sources and categories."""
    return replace(
        p,
        authors=tuple(p.authors),
        featured_days=tuple(sorted(set(p.featured_days))),
        ai_keywords=tuple(p.ai_keywords),
        sources=_union((), p.sources),
        categories=_union((), p.categories),
    )


def merge(old: Paper, new: Paper) -> Paper:
    """What storing `new` over `old` leaves.

    Days, sources and categories are unions; text and optional fields take the new value unless it is empty;
    `withdrawn` takes the new value. Upvotes and comments take the new value when it comes from Hugging Face
    (the only source that counts them) or is non-zero, so an arXiv sighting never resets HF's counts.
    """
    counts_from_hf = Source.HF in new.sources
    return Paper(
        id=old.id,
        title=new.title or old.title,
        abstract=new.abstract or old.abstract,
        authors=tuple(new.authors) or old.authors,
        published_at=new.published_at if new.published_at is not None else old.published_at,
        featured_days=tuple(sorted(set(old.featured_days) | set(new.featured_days))),
        upvotes=new.upvotes if counts_from_hf or new.upvotes else old.upvotes,
        comments=new.comments if counts_from_hf or new.comments else old.comments,
        ai_summary=new.ai_summary or old.ai_summary,
        ai_keywords=tuple(new.ai_keywords) or old.ai_keywords,
        github_repo=new.github_repo or old.github_repo,
        github_stars=new.github_stars if new.github_stars is not None else old.github_stars,
        project_page=new.project_page or old.project_page,
        thumbnail=new.thumbnail or old.thumbnail,
        organization=new.organization or old.organization,
        withdrawn=new.withdrawn,
        sources=_union(old.sources, new.sources),
        categories=_union(old.categories, new.categories),
        # A daily listing carries no linked models: only a sighting that has them replaces them.
        models=new.models or old.models,
        models_total=max(new.models_total, old.models_total) if not new.models else new.models_total,
        datasets=new.datasets or old.datasets,
        datasets_total=max(new.datasets_total, old.datasets_total) if not new.datasets else new.datasets_total,
        spaces=new.spaces or old.spaces,
        spaces_total=max(new.spaces_total, old.spaces_total) if not new.spaces else new.spaces_total,
    )


def _search_fields(p: Paper) -> tuple[str, str, str, str, str]:
    keywords = " ; ".join(p.ai_keywords)
    authors = ", ".join(p.authors)
    return p.title, p.abstract, keywords, authors, extra_forms(p.title, p.abstract, keywords, authors)


def extra_forms(title: str, abstract: str, keywords: str, authors: str) -> str:
    """The `joined` column: hyphen-joined forms, then transliterated forms (`bot.textnorm`)."""
    forms = (joined_forms((title, abstract, keywords)), transliterated_forms((title, abstract, keywords, authors)))
    return "\n".join(f for f in forms if f)


def _row_values(p: Paper, search: tuple[str, str, str, str, str]) -> dict[str, Any]:
    first = p.featured_days[0] if p.featured_days else None
    arrival = first if first is not None else (p.published_at.date() if p.published_at else None)
    _, _, keywords, authors, joined = search
    return {
        "title": p.title,
        "abstract": p.abstract,
        "authors": list(p.authors),
        "published_at": p.published_at,
        "upvotes": p.upvotes,
        "comments": p.comments,
        "ai_summary": p.ai_summary,
        "ai_keywords": list(p.ai_keywords),
        "github_repo": p.github_repo,
        "github_stars": p.github_stars,
        "project_page": p.project_page,
        "thumbnail": p.thumbnail,
        "organization": p.organization,
        "withdrawn": p.withdrawn,
        "sources": [s.value for s in p.sources],
        "categories": list(p.categories),
        "first_featured": first,
        "arrival_day": arrival,
        "authors_text": authors,
        "keywords_text": keywords,
        "joined_text": joined,
        "models": list(p.models),
        "models_total": p.models_total,
        "datasets": list(p.datasets),
        "datasets_total": p.datasets_total,
        "spaces": list(p.spaces),
        "spaces_total": p.spaces_total,
    }


_SEEN = {
    ArtifactKind.CODE: "code_seen_at",
    ArtifactKind.MODEL: "models_seen_at",
    ArtifactKind.DATASET: "datasets_seen_at",
    ArtifactKind.SPACE: "spaces_seen_at",
}
"""The column that remembers when Paperboy first saw a paper with each kind of artifact."""


def _seen_values(gained: frozenset[ArtifactKind], seen_at: datetime) -> dict[str, datetime | None]:
    return {f"s_{column}": (seen_at if kind in gained else None) for kind, column in _SEEN.items()}


_SOURCES = {s.value: s for s in Source}


def _to_paper(row: Any) -> Paper:
    """A row of `_paper_select()` -> Paper (days arrive as one comma-separated text)."""
    days = row.days_csv
    return Paper(
        id=row.id,
        title=row.title,
        abstract=row.abstract,
        authors=tuple(row.authors),
        published_at=row.published_at,
        featured_days=tuple(sorted(date.fromisoformat(d) for d in days.split(","))) if days else (),
        upvotes=row.upvotes,
        comments=row.comments,
        ai_summary=row.ai_summary,
        ai_keywords=tuple(row.ai_keywords),
        github_repo=row.github_repo,
        github_stars=row.github_stars,
        project_page=row.project_page,
        thumbnail=row.thumbnail,
        organization=row.organization,
        withdrawn=row.withdrawn,
        sources=tuple(_SOURCES[s] for s in row.sources),
        categories=tuple(row.categories),
        models=tuple(row.models),
        models_total=row.models_total,
        datasets=tuple(row.datasets),
        datasets_total=row.datasets_total,
        spaces=tuple(row.spaces),
        spaces_total=row.spaces_total,
    )


# Only what a Paper needs: the search text and bookkeeping columns stay in the database.
_PAPER_COLUMNS = [
    _PAPERS.c[name]
    for name in (
        "seq", "id", "title", "abstract", "authors", "published_at", "upvotes", "comments", "ai_summary",
        "ai_keywords", "github_repo", "github_stars", "project_page", "thumbnail", "organization", "withdrawn",
        "sources", "categories", "models", "models_total", "datasets", "datasets_total", "spaces", "spaces_total",
    )
]  # fmt: skip


def _days_csv(dialect: str) -> Any:
    """A correlated subquery: the paper's featured days as 'YYYY-MM-DD,...' (one statement per listing)."""
    if dialect == "postgresql":
        agg = func.string_agg(func.to_char(PaperDayRow.day, "YYYY-MM-DD"), literal_column("','"))
    else:
        agg = func.group_concat(PaperDayRow.day)  # SQLite stores dates as ISO text
    return select(agg).where(PaperDayRow.paper_id == _PAPERS.c.id).scalar_subquery().label("days_csv")


def _tsquery(cleaned: Sequence[Sequence[str]]) -> tuple[str, dict[str, Any]]:
    """Postgres: the OR of one `phraseto_tsquery` per phrase, each a bound parameter (`:p0`, `:p1`, ...).

    The SQL's shape depends only on how many phrases there are; no user text is ever spliced in.
    """
    params = {f"p{i}": " ".join(words) for i, words in enumerate(cleaned)}
    return " || ".join(f"phraseto_tsquery('english', :p{i})" for i in range(len(cleaned))), params


def _seed_sql(
    dialect: str, cleaned: list[list[str]], newest: int, most: int, title: bool
) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"newest": newest, "most": most}
    if dialect == "sqlite":
        match = fts5_match(cleaned)
        params.update(match=match, in_title=f"{{title}} : ({match})")

        def newest_of(expression: str) -> str:
            return (
                f"SELECT rowid AS seq FROM papers_fts WHERE papers_fts MATCH {expression} "  # noqa: S608
                "ORDER BY rowid DESC LIMIT :newest"
            )

        join = "JOIN papers p INDEXED BY ix_papers_rank ON p.seq = n.seq"
        newest_sql, title_sql, no_limit = newest_of(":match"), newest_of(":in_title"), "-1"
    else:
        tsquery, phrase_params = _tsquery(cleaned)
        params.update(phrase_params)
        # Only the newest POSTGRES_SEED_PAPERS papers: "the newest 300 matches" over the whole table is a
        # backward scan that, for a rare word, checks most of the table's tsvectors (1 s at a million
        # papers) or a GIN scan that, for a common one, visits every match. Bounded, the planner checks
        # a few thousand rows or takes the GIN index; the walk goes on from there.
        recent = "seq > (SELECT max(seq) FROM papers) - :recent"
        newest_sql = (
            f"SELECT seq FROM papers WHERE {recent} AND search_tsv @@ ({tsquery}) "  # noqa: S608
            "ORDER BY seq DESC LIMIT :newest"
        )
        # ts_filter cannot use the GIN index: judge it only on the rows the tsquery kept.
        title_sql = (
            f"SELECT seq FROM papers WHERE {recent} AND search_tsv @@ ({tsquery}) "  # noqa: S608
            f"AND ts_filter(search_tsv, '{{a}}') @@ ({tsquery}) ORDER BY seq DESC LIMIT :newest"
        )
        params["recent"] = POSTGRES_SEED_PAPERS
        join, no_limit = "JOIN papers p ON p.seq = n.seq", "CAST(NULL AS BIGINT)"
    columns = "p.seq, p.upvotes, p.arrival_day, p.title, p.keywords_text"
    arms = [
        f"SELECT * FROM (SELECT {columns}, 0 AS part FROM newest n {join} WHERE NOT p.withdrawn "  # noqa: S608
        f"ORDER BY p.upvotes DESC, p.seq DESC LIMIT (SELECT CASE WHEN count(*) < :newest THEN {no_limit} "
        "ELSE CAST(:most AS BIGINT) END FROM newest)) AS a"
    ]
    if title:
        arms.append(
            f"SELECT * FROM (SELECT {columns}, 1 AS part FROM titled n {join} WHERE NOT p.withdrawn "  # noqa: S608
            "ORDER BY p.upvotes DESC, p.seq DESC LIMIT :most) AS b"
        )
    ctes = [f"newest AS MATERIALIZED ({newest_sql})"] + ([f"titled AS ({title_sql})"] if title else [])
    # How many newest there are, the oldest of them, and the newest paper of all: the density of
    # matches among recent papers, which estimates the total when the search stops early.
    sql = (
        f"WITH {', '.join(ctes)}, total AS (SELECT count(*) AS n, min(seq) AS oldest, "  # noqa: S608
        "(SELECT max(seq) FROM papers) AS top FROM newest) "
        f"SELECT h.*, total.n, total.oldest, total.top FROM ({' UNION ALL '.join(arms)}) AS h, total"
    )
    return sql, params


def _block_hits_sql(dialect: str, cleaned: list[list[str]], ranges: Sequence[HitRange]) -> tuple[str, dict[str, Any]]:
    if dialect == "sqlite":
        params: dict[str, Any] = {"match": fts5_match(cleaned)}
        arms = []
        for i, span in enumerate(ranges):
            params[f"lo{i}"], params[f"hi{i}"] = span.first * SEARCH_BLOCK, (span.last + 1) * SEARCH_BLOCK - 1
            params[f"up{i}"] = span.min_upvotes
            arms.append(
                "SELECT p.seq, p.upvotes, p.arrival_day, p.title, p.keywords_text FROM papers_fts f "  # noqa: S608
                "JOIN papers p INDEXED BY ix_papers_rank ON p.seq = f.rowid "
                f"WHERE papers_fts MATCH :match AND f.rowid BETWEEN :lo{i} AND :hi{i} "
                f"AND p.upvotes >= :up{i} AND NOT p.withdrawn"
            )
        return " UNION ALL ".join(arms), params
    tsquery, params = _tsquery(cleaned)
    spans = []
    for i, span in enumerate(ranges):
        params[f"lo{i}"], params[f"hi{i}"] = span.first * SEARCH_BLOCK, (span.last + 1) * SEARCH_BLOCK - 1
        params[f"up{i}"] = span.min_upvotes
        spans.append(f"(seq BETWEEN :lo{i} AND :hi{i} AND upvotes >= :up{i})")
    sql = (
        "SELECT seq, upvotes, arrival_day, title, keywords_text FROM papers "  # noqa: S608 (placeholders only)
        # The cheap tests first: Postgres keeps the written order of equally costed conditions, and
        # the upvote floor spares most rows the tsvector check.
        f"WHERE ({' OR '.join(spans)}) AND NOT withdrawn AND search_tsv @@ ({tsquery})"
    )
    return sql, params


class _SearchReads:
    """`bot.ports.SearchReads` on one synchronous connection: a search's statements, without a hop each.

    SQLite: a connection of its own (from `Database`'s synchronous engine on the same file, WAL, so it
    reads beside the writer), used in a worker thread. Postgres: the async connection, driven through
    SQLAlchemy's `run_sync`.
    """

    def __init__(self, connection: Connection, dialect: str, select_papers: Any) -> None:
        self._conn = connection
        self._dialect = dialect
        self._select = select_papers

    def seed_hits(self, phrases: Sequence[Sequence[str]], newest: int, most: int, *, title: bool = False) -> SeedHits:
        """A first look, in one statement: the `most` most upvoted of the `newest` newest matches, and
        (with `title`) the `most` most upvoted of the `newest` newest with a phrase in the title itself.

        When there are fewer than `newest` matches in all, every one of them instead (`SeedHits.every`).
        """
        cleaned = clean_phrases(phrases)
        if not cleaned or newest < 1:
            return SeedHits([], True, 0.0)
        sql, params = _seed_sql(self._dialect, cleaned, newest, most, title)
        rows = self._conn.execute(text(sql), params).all()
        if not rows:
            return SeedHits([], True, 0.0)
        count, oldest, top = rows[0][-3:]
        # Postgres looked at the newest POSTGRES_SEED_PAPERS papers only: fewer matches there is not all.
        window = top if self._dialect == "sqlite" else min(top, POSTGRES_SEED_PAPERS)
        every = count < newest and window >= top
        density = count / max(1, (top - oldest + 1) if count >= newest else window)
        hits = [
            BlockHit(seq, votes, _as_date(day), name, keywords, part == 1 or None)
            for seq, votes, day, name, keywords, part, *_ in rows
        ]
        return SeedHits(hits, every, density * top)

    def block_hits(self, phrases: Sequence[Sequence[str]], ranges: Sequence[HitRange]) -> list[BlockHit]:
        """The matches in `ranges` over their upvote floors: seq, upvotes and day from `ix_papers_rank`,
        and the title and keywords (read only for the rows returned), never the abstract.

        SQLite: one FTS5 query per range, bounded to its rowid range (FTS5 seeks to it in every doclist),
        all in one UNION ALL statement. Postgres: the tsquery over the ranges' `seq` spans; the planner
        picks the GIN index or the primary key.
        """
        cleaned = clean_phrases(phrases)
        if not cleaned or not ranges:
            return []
        out: list[BlockHit] = []
        for chunk in _chunks(list(ranges), _BLOCK_ARMS):
            sql, params = _block_hits_sql(self._dialect, cleaned, chunk)
            rows = self._conn.execute(text(sql), params)
            out.extend(BlockHit(seq, votes, _as_date(day), name, kws) for seq, votes, day, name, kws in rows)
        return out

    def by_seq(self, seqs: Sequence[int]) -> dict[int, Paper]:
        query = self._select.where(_PAPERS.c.seq.in_(bindparam("seqs", expanding=True)))
        found: dict[int, Paper] = {}
        for chunk in _chunks(list(dict.fromkeys(seqs))):
            for row in self._conn.execute(query, {"seqs": list(chunk)}):
                found[row.seq] = _to_paper(row)
        return found


class PaperRepository:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], dialect: str, sync_engine: Engine | None = None
    ) -> None:
        self._sessions = sessions
        self._dialect = dialect
        self._sync_engine = sync_engine
        self._write_lock = asyncio.Lock()
        self._select = select(*_PAPER_COLUMNS, _days_csv(dialect))
        # `today` and digests read the same day lists over and over while they change only on ingest:
        # keep them briefly. Local upserts clear it; another replica's ingest shows within the TTL.
        self._day_cache: dict[tuple[str, date | None], tuple[float, Any]] = {}
        self._blocks_cache: tuple[int, float, list[SearchBlock]] | None = None
        self.generation = 0
        """Bumped by every write of this process: what is derived from papers (the rising pool) keys on it."""

    # -- writing ---------------------------------------------------------------------------------

    async def upsert(self, papers: Sequence[Paper], *, seen_at: datetime) -> UpsertResult:
        """Merge `papers` into the store (see `merge`); identical data changes nothing, not even a sample.

        One batch costs a handful of statements: existing rows and days are loaded in one query each,
        compared in Python, and only the difference is written with executemany.
        """
        incoming: dict[str, Paper] = {}
        for p in papers:
            p = _normalised(p)
            incoming[p.id] = merge(incoming[p.id], p) if p.id in incoming else p
        if not incoming:
            return UpsertResult()
        # Writers in this process take turns (the ingest job and a search that stores Hub results may
        # overlap); another replica inserting the same paper first makes the batch fail on a unique key,
        # and re-running it merges into what that replica stored.
        for attempt in range(1, _UPSERT_ATTEMPTS + 1):
            try:
                async with self._write_lock:
                    try:
                        return await self._upsert_once(incoming, seen_at)
                    finally:
                        # After the commit (or the failure): a read during the write may have cached old days.
                        self._day_cache.clear()
                        self._blocks_cache = None
                        self.generation += 1
            except IntegrityError:
                if attempt == _UPSERT_ATTEMPTS:
                    raise
                logger.info("paper upsert raced another writer; retrying (attempt %d)", attempt)
        raise AssertionError("unreachable")

    async def _upsert_once(self, incoming: dict[str, Paper], seen_at: datetime) -> UpsertResult:
        async with self._sessions.begin() as session:
            existing = await self._load(session, list(incoming))
            inserts: list[Paper] = []
            updates: list[tuple[int, Paper, Paper]] = []  # (seq, old, merged)
            unchanged = 0
            for pid, new in incoming.items():
                found = existing.get(pid)
                if found is None:
                    inserts.append(new)
                    continue
                seq, old = found
                merged = merge(old, new)
                if merged == old:
                    unchanged += 1
                else:
                    updates.append((seq, old, merged))
            await self._write(session, inserts, updates, seen_at)
        return UpsertResult(inserted=len(inserts), updated=len(updates), unchanged=unchanged)

    async def _load(self, session: AsyncSession, ids: list[str]) -> dict[str, tuple[int, Paper]]:
        found: dict[str, tuple[int, Paper]] = {}
        query = self._select.where(_PAPERS.c.id.in_(bindparam("ids", expanding=True)))
        for chunk in _chunks(ids):
            for row in await session.execute(query, {"ids": list(chunk)}):
                found[row.id] = (row.seq, _to_paper(row))
        return found

    async def _write(
        self,
        session: AsyncSession,
        inserts: list[Paper],
        updates: list[tuple[int, Paper, Paper]],
        seen_at: datetime,
    ) -> None:
        new_days: list[dict[str, Any]] = []
        samples: list[dict[str, Any]] = []
        # SQLite's full-text index follows these writes through triggers (storage.search).
        if inserts:
            await session.execute(
                insert(_PAPERS),
                [
                    {
                        "id": p.id,
                        **_row_values(p, _search_fields(p)),
                        # Every row names every column (one executemany): None for what it does not have.
                        **{column: (seen_at if kind in p.artifacts else None) for kind, column in _SEEN.items()},
                        "first_seen_at": seen_at,
                        "updated_at": seen_at,
                    }
                    for p in inserts
                ],
            )
            for p in inserts:
                new_days.extend({"paper_id": p.id, "day": d} for d in p.featured_days)
                samples.append({"paper_id": p.id, "at": seen_at, "upvotes": p.upvotes})

        if updates:
            searches = [_search_fields(merged) for _, _, merged in updates]
            values = [
                {
                    "b_id": merged.id,
                    **_row_values(merged, search),
                    **_seen_values(merged.artifacts - old.artifacts, seen_at),
                    "updated_at": seen_at,
                }
                for (_, old, merged), search in zip(updates, searches, strict=True)
            ]
            columns: dict[str, Any] = {k: bindparam(k) for k in values[0] if k != "b_id" and not k.startswith("s_")}
            # First sightings only: a kind the paper had before keeps the time it was first seen.
            columns.update({c: func.coalesce(_PAPERS.c[c], bindparam(f"s_{c}")) for c in _SEEN.values()})
            await session.execute(
                update(_PAPERS).where(_PAPERS.c.id == bindparam("b_id")).values(columns),
                values,
            )
            for _, old, merged in updates:
                added = set(merged.featured_days) - set(old.featured_days)
                new_days.extend({"paper_id": merged.id, "day": d} for d in sorted(added))
                if merged.upvotes != old.upvotes:
                    samples.append({"paper_id": merged.id, "at": seen_at, "upvotes": merged.upvotes})

        if new_days:
            await session.execute(insert(PaperDayRow), new_days)
        if samples:
            await session.execute(insert(UpvoteSampleRow), samples)

    # -- reading ---------------------------------------------------------------------------------

    async def get(self, paper_id: str) -> Paper | None:
        found = await self.get_many([paper_id])
        return found.get(paper_id)

    async def get_many(self, ids: Sequence[str]) -> dict[str, Paper]:
        unique = list(dict.fromkeys(ids))
        async with self._sessions() as session:
            return {pid: paper for pid, (_, paper) in (await self._load(session, unique)).items()}

    async def count(self) -> int:
        async with self._sessions() as session:
            return (await session.execute(select(func.count()).select_from(_PAPERS))).scalar_one()

    def _cached(self, key: tuple[str, date | None]) -> Any:
        hit = self._day_cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < DAY_CACHE_SECONDS:
            return hit[1]
        return _MISS

    def _remember(self, key: tuple[str, date | None], value: Any) -> None:
        if len(self._day_cache) >= _DAY_CACHE_ENTRIES:
            self._day_cache.clear()
        self._day_cache[key] = (time.monotonic(), value)

    async def latest_featured_day(self, on_or_before: date | None = None) -> date | None:
        key = ("latest", on_or_before)
        cached = self._cached(key)
        if cached is not _MISS:
            return cast(date | None, cached)
        query = select(func.max(PaperDayRow.day))
        if on_or_before is not None:
            query = query.where(PaperDayRow.day <= on_or_before)
        async with self._sessions() as session:
            latest = (await session.execute(query)).scalar_one_or_none()
        self._remember(key, latest)
        return latest

    async def _list(self, where: Any, order: Sequence[Any], limit: int | None = None) -> list[Paper]:
        query = self._select.where(where).order_by(*order)
        if limit is not None:
            query = query.limit(limit)
        async with self._sessions() as session:
            return [_to_paper(row) for row in await session.execute(query)]

    async def featured_on(self, day: date) -> list[Paper]:
        key = ("day", day)
        cached = self._cached(key)
        if cached is not _MISS:
            return list(cast(tuple[Paper, ...], cached))
        featured = select(PaperDayRow.paper_id).where(PaperDayRow.day == day)
        papers = await self._list(_PAPERS.c.id.in_(featured), (_PAPERS.c.upvotes.desc(), _PAPERS.c.id))
        self._remember(key, tuple(papers))
        return papers

    async def featured_counts(self, start: date, end: date) -> dict[date, int]:
        """How many papers each Daily Papers day in [start, end] featured (days without any are absent)."""
        query = (
            select(PaperDayRow.day, func.count()).where(PaperDayRow.day.between(start, end)).group_by(PaperDayRow.day)
        )
        async with self._sessions() as session:
            return {day: int(n) for day, n in await session.execute(query)}

    async def featured_between(self, start: date, end: date) -> list[Paper]:
        featured = select(PaperDayRow.paper_id).where(PaperDayRow.day.between(start, end))
        return await self._list(_PAPERS.c.id.in_(featured), (_PAPERS.c.upvotes.desc(), _PAPERS.c.id))

    async def arrived_between(self, start: date, end: date) -> list[Paper]:
        """Papers featured on a day in [start, end], or never featured and published in [start, end]."""
        featured = select(PaperDayRow.paper_id).where(PaperDayRow.day.between(start, end))
        where = or_(
            _PAPERS.c.id.in_(featured),
            and_(_PAPERS.c.first_featured.is_(None), _PAPERS.c.arrival_day.between(start, end)),
        )
        return await self._list(where, (_PAPERS.c.upvotes.desc(), _PAPERS.c.id))

    async def corpus(self) -> list[tuple[str, str]]:
        """(id, title abstract keywords) of every paper not withdrawn: what "more like this" indexes."""
        c = _PAPERS.c
        query = select(c.id, c.title, c.abstract, c.keywords_text).where(~c.withdrawn).order_by(c.seq)
        async with self._sessions() as session:
            rows = await session.execute(query)
            return [(pid, f"{title} {title} {abstract} {keywords or ''}") for pid, title, abstract, keywords in rows]

    async def recent(self, limit: int) -> list[Paper]:
        """Newest arrival first: the first featured day, else the published date."""
        order = (_PAPERS.c.arrival_day.desc().nulls_last(), _PAPERS.c.seq.desc())
        return await self._list(true(), order, limit)

    async def first_upvotes(self, ids: Sequence[str]) -> dict[str, tuple[datetime, int]]:
        """Each paper's earliest upvote sample: when Paperboy first saw it, and with how many upvotes."""
        found: dict[str, tuple[datetime, int]] = {}
        query = (
            select(UpvoteSampleRow.paper_id, UpvoteSampleRow.at, UpvoteSampleRow.upvotes)
            .where(UpvoteSampleRow.paper_id.in_(bindparam("ids", expanding=True)))
            .order_by(UpvoteSampleRow.paper_id, UpvoteSampleRow.at, UpvoteSampleRow.id)
        )
        async with self._sessions() as session:
            for chunk in _chunks(list(dict.fromkeys(ids))):
                for paper_id, at, votes in await session.execute(query, {"ids": list(chunk)}):
                    found.setdefault(paper_id, (at, votes))
        return found

    async def upvote_history(self, paper_id: str) -> list[tuple[datetime, int]]:
        query = (
            select(UpvoteSampleRow.at, UpvoteSampleRow.upvotes)
            .where(UpvoteSampleRow.paper_id == paper_id)
            .order_by(UpvoteSampleRow.at, UpvoteSampleRow.id)
        )
        async with self._sessions() as session:
            return [(at, votes) for at, votes in await session.execute(query)]

    # -- full-text candidates --------------------------------------------------------------------

    async def search_candidates(self, phrases: Sequence[Sequence[str]], limit: int) -> list[tuple[Paper, float]]:
        """Up to `limit` papers matching any of `phrases`, best first, with a relevance >= 0."""
        return (await self.search_window(phrases, limit)).candidates

    async def search_window(self, phrases: Sequence[Sequence[str]], limit: int) -> SearchWindow:
        """The best `limit` full-text matches of any of `phrases`, and how many papers match in all.

        SQLite: -bm25 over the FTS5 table, title weighing most. Postgres: ts_rank_cd over the weighted
        tsvector (A title, B keywords, C authors and joined forms, D abstract). One statement does the
        match, the ranking, the total (a window count over the same scan) and the loading of papers.
        """
        if limit <= 0 or not clean_phrases(phrases):
            return SearchWindow([], 0)
        hits = self._hits_sqlite(phrases, limit) if self._dialect == "sqlite" else self._hits_postgres(phrases, limit)
        if hits is None:
            return SearchWindow([], 0)
        query = (
            self._select.add_columns(hits.c.score, hits.c.total)
            .join_from(_PAPERS, hits, _PAPERS.c.seq == hits.c.seq)
            .order_by(hits.c.score.desc(), hits.c.seq)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return SearchWindow(
            [(_to_paper(row), max(0.0, float(row.score))) for row in rows], int(rows[0].total) if rows else 0
        )

    async def search_blocks(self) -> list[SearchBlock]:
        """Every block's ceilings, kept like the day lists (this process's writes clear them at once)."""
        cached = self._blocks_cache
        if cached is not None and cached[0] == self.generation and time.monotonic() - cached[1] < DAY_CACHE_SECONDS:
            return cached[2]
        generation = self.generation
        query = select(PaperBlockRow.block, PaperBlockRow.max_upvotes, PaperBlockRow.max_day)
        async with self._sessions() as session:
            blocks = [SearchBlock(block, upvotes, day) for block, upvotes, day in await session.execute(query)]
        self._blocks_cache = (generation, time.monotonic(), blocks)
        return blocks

    async def searching(self, work: Callable[[SearchReads], T]) -> T:
        """Run `work` (a search's reads, synchronous) on one connection, in one go (`_SearchReads`)."""
        if self._sync_engine is not None:
            return await asyncio.to_thread(self._search_in_thread, work)
        engine = self._sessions.kw["bind"]
        async with engine.connect() as conn:
            return cast(T, await conn.run_sync(lambda c: work(_SearchReads(c, self._dialect, self._select))))

    def _search_in_thread(self, work: Callable[[SearchReads], T]) -> T:
        assert self._sync_engine is not None
        with self._sync_engine.connect() as conn:
            return work(_SearchReads(conn, self._dialect, self._select))

    async def by_seq(self, seqs: Sequence[int]) -> dict[int, Paper]:
        return await self.searching(lambda reads: reads.by_seq(seqs))

    def _hits_sqlite(self, phrases: Sequence[Sequence[str]], limit: int) -> Any:
        match = fts5_match(phrases)
        if match is None:
            return None
        # The window count rides on the same FTS5 scan that bm25 needs anyway (measured: no extra cost).
        return (
            text(
                "SELECT seq, score, count(*) OVER () AS total FROM ("  # noqa: S608 (constant weights only)
                f"SELECT rowid AS seq, -{_BM25} AS score FROM papers_fts "
                "WHERE papers_fts MATCH :match) ORDER BY score DESC, seq LIMIT :limit"
            )
            .bindparams(match=match, limit=limit)
            .columns(seq=Integer, score=Float, total=Integer)
            .subquery("hits")
        )

    def _hits_postgres(self, phrases: Sequence[Sequence[str]], limit: int) -> Any:
        cleaned = clean_phrases(phrases)
        if not cleaned:
            return None
        tsquery, params = _tsquery(cleaned)
        return (
            text(
                "SELECT p.seq AS seq, ts_rank_cd(p.search_tsv, q.query) AS score, "  # noqa: S608 (placeholders only)
                f"count(*) OVER () AS total FROM papers p, (SELECT {tsquery} AS query) q "
                "WHERE p.search_tsv @@ q.query ORDER BY score DESC, p.seq LIMIT :limit"
            )
            .bindparams(limit=limit, **params)
            .columns(seq=Integer, score=Float, total=Integer)
            .subquery("hits")
        )

"""Papers: merge-upsert semantics, listings by day and range, upvote history."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta

from bot.types import Paper, Source, UpsertResult
from storage import Database
from tests.storage.archive import load, sample

SEEN = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)
LATER = SEEN + timedelta(hours=1)


async def test_upsert_inserts_real_papers_and_reads_them_back(db: Database) -> None:
    papers = sample(8)
    result = await db.papers.upsert(papers, seen_at=SEEN)
    assert result == UpsertResult(inserted=8)
    assert await db.papers.count() == 8
    for paper in papers:
        assert await db.papers.get(paper.id) == paper
    assert await db.papers.get("9999.99999") is None


async def test_upserting_identical_data_again_changes_nothing(db: Database) -> None:
    papers = sample(20)
    await db.papers.upsert(papers, seen_at=SEEN)
    again = await db.papers.upsert(papers, seen_at=LATER)
    assert again == UpsertResult(unchanged=20)
    for paper in papers:
        assert await db.papers.upvote_history(paper.id) == [(SEEN, paper.upvotes)]


async def test_new_upvote_count_updates_the_paper_and_records_a_sample(db: Database) -> None:
    paper = sample(1)[0]
    await db.papers.upsert([paper], seen_at=SEEN)
    result = await db.papers.upsert([dataclasses.replace(paper, upvotes=paper.upvotes + 7)], seen_at=LATER)
    assert result == UpsertResult(updated=1)
    stored = await db.papers.get(paper.id)
    assert stored is not None and stored.upvotes == paper.upvotes + 7
    assert await db.papers.upvote_history(paper.id) == [(SEEN, paper.upvotes), (LATER, paper.upvotes + 7)]


async def test_paper_featured_on_two_days_is_one_paper_with_both_days(db: Database) -> None:
    paper = sample(1)[0]
    day1 = paper.featured_days[0]
    day2 = day1 + timedelta(days=3)
    await db.papers.upsert([paper], seen_at=SEEN)
    await db.papers.upsert([dataclasses.replace(paper, featured_days=(day2,))], seen_at=LATER)
    assert await db.papers.count() == 1
    stored = await db.papers.get(paper.id)
    assert stored is not None and stored.featured_days == (day1, day2)
    assert [p.id for p in await db.papers.featured_on(day2)] == [paper.id]
    assert [p.id for p in await db.papers.featured_on(day1)] == [paper.id]


async def test_merge_keeps_old_values_where_the_new_source_has_none(db: Database) -> None:
    paper = sample(1)[0]
    assert paper.ai_summary and paper.ai_keywords
    await db.papers.upsert([paper], seen_at=SEEN)
    from_arxiv = Paper(
        id=paper.id,
        title=paper.title,
        abstract=paper.abstract,
        authors=paper.authors,
        published_at=paper.published_at,
        sources=(Source.ARXIV,),
        categories=("cs.CV", "cs.AI"),
    )
    result = await db.papers.upsert([from_arxiv], seen_at=LATER)
    assert result == UpsertResult(updated=1)
    stored = await db.papers.get(paper.id)
    assert stored is not None
    assert stored.ai_summary == paper.ai_summary
    assert stored.ai_keywords == paper.ai_keywords
    assert stored.upvotes == paper.upvotes  # an arXiv sighting does not reset HF's counts
    assert stored.featured_days == paper.featured_days
    assert stored.sources == (Source.HF, Source.ARXIV)
    assert stored.categories == ("cs.CV", "cs.AI")
    assert await db.papers.upvote_history(paper.id) == [(SEEN, paper.upvotes)]


async def test_new_non_empty_text_wins(db: Database) -> None:
    paper = sample(1)[0]
    await db.papers.upsert([paper], seen_at=SEEN)
    await db.papers.upsert([dataclasses.replace(paper, title="A Corrected Title", github_stars=12)], seen_at=LATER)
    stored = await db.papers.get(paper.id)
    assert stored is not None and stored.title == "A Corrected Title" and stored.github_stars == 12
    assert [p.id for p, _ in await db.papers.search_candidates([["corrected"]], 5)] == [paper.id]


async def test_withdrawn_flag_follows_the_latest_value(db: Database) -> None:
    paper = sample(1)[0]
    await db.papers.upsert([paper], seen_at=SEEN)
    await db.papers.upsert([dataclasses.replace(paper, withdrawn=True)], seen_at=LATER)
    stored = await db.papers.get(paper.id)
    assert stored is not None and stored.withdrawn
    await db.papers.upsert([dataclasses.replace(paper, withdrawn=False)], seen_at=LATER + timedelta(hours=1))
    stored = await db.papers.get(paper.id)
    assert stored is not None and not stored.withdrawn


async def test_duplicates_within_one_batch_are_merged(db: Database) -> None:
    paper = sample(1)[0]
    other_day = dataclasses.replace(paper, featured_days=(date(2025, 11, 20),), upvotes=paper.upvotes + 1)
    result = await db.papers.upsert([paper, other_day], seen_at=SEEN)
    assert result == UpsertResult(inserted=1)
    stored = await db.papers.get(paper.id)
    assert stored is not None
    assert stored.featured_days == (*paper.featured_days, date(2025, 11, 20))
    assert stored.upvotes == paper.upvotes + 1


async def test_featured_on_and_between_order_by_upvotes(db: Database) -> None:
    papers = load()
    await db.papers.upsert(papers, seen_at=SEEN)
    day = papers[0].featured_days[0]
    expected = sorted({p.id: p for p in papers if day in p.featured_days}.values(), key=lambda p: (-p.upvotes, p.id))
    assert [p.id for p in await db.papers.featured_on(day)] == [p.id for p in expected]

    week = await db.papers.featured_between(date(2025, 11, 3), date(2025, 11, 9))
    in_week = {p.id for p in papers if any(date(2025, 11, 3) <= d <= date(2025, 11, 9) for d in p.featured_days)}
    assert {p.id for p in week} == in_week
    assert len(week) == len(in_week)  # each paper once
    assert [p.upvotes for p in week] == sorted((p.upvotes for p in week), reverse=True)


async def test_latest_featured_day(db: Database) -> None:
    assert await db.papers.latest_featured_day() is None
    papers = load()
    await db.papers.upsert(papers, seen_at=SEEN)
    days = sorted({d for p in papers for d in p.featured_days})
    assert await db.papers.latest_featured_day() == days[-1]
    assert await db.papers.latest_featured_day(on_or_before=days[3] + timedelta(hours=0)) == days[3]
    assert await db.papers.latest_featured_day(on_or_before=days[0] - timedelta(days=1)) is None


async def test_arrived_between_counts_featured_days_or_else_the_published_date(db: Database) -> None:
    featured, also_featured = sample(2)
    unfeatured = Paper(
        id="2511.99991",
        title="An arXiv-only paper",
        abstract="Never featured on Daily Papers.",
        published_at=datetime(2025, 11, 12, 18, 0, tzinfo=UTC),
        sources=(Source.ARXIV,),
    )
    late = dataclasses.replace(
        also_featured, featured_days=(date(2025, 11, 25),), published_at=datetime(2025, 11, 12, tzinfo=UTC)
    )
    await db.papers.upsert([featured, late, unfeatured], seen_at=SEEN)
    day = featured.featured_days[0]
    assert {p.id for p in await db.papers.arrived_between(day, day)} == {featured.id}
    # `late` was published on the 12th but arrived (was featured) on the 25th.
    assert {p.id for p in await db.papers.arrived_between(date(2025, 11, 12), date(2025, 11, 12))} == {unfeatured.id}
    assert {p.id for p in await db.papers.arrived_between(date(2025, 11, 24), date(2025, 11, 26))} == {late.id}


async def test_recent_is_newest_arrival_first(db: Database) -> None:
    papers = load()[:60]
    await db.papers.upsert(papers, seen_at=SEEN)
    recent = await db.papers.recent(10)
    assert len(recent) == 10
    firsts = [p.first_featured for p in recent]
    assert firsts == sorted(firsts, reverse=True)  # type: ignore[type-var]
    assert firsts[0] == max(p.first_featured for p in papers if p.first_featured)


async def test_get_many_returns_found_papers_only(db: Database) -> None:
    papers = sample(5)
    await db.papers.upsert(papers, seen_at=SEEN)
    ids = [p.id for p in papers[:3]] + ["0000.00000"]
    found = await db.papers.get_many(ids)
    assert set(found) == {p.id for p in papers[:3]}
    assert found[papers[0].id] == papers[0]


async def test_whole_month_ingest_is_idempotent_in_batches(db: Database) -> None:
    papers = load()
    total = UpsertResult()
    for i in range(0, len(papers), 100):
        total += await db.papers.upsert(papers[i : i + 100], seen_at=SEEN)
    unique = len({p.id for p in papers})
    assert total.inserted == unique
    again = UpsertResult()
    for i in range(0, len(papers), 100):
        again += await db.papers.upsert(papers[i : i + 100], seen_at=LATER)
    assert again.inserted == 0 and again.updated == 0
    assert await db.papers.count() == unique


async def test_concurrent_upserts_of_the_same_paper_merge(db: Database, replica: Database) -> None:
    paper = sample(1)[0]
    day1 = paper.featured_days[0]
    others = [dataclasses.replace(paper, featured_days=(day1 + timedelta(days=i),)) for i in range(1, 5)]
    results = await asyncio.gather(
        db.papers.upsert([paper], seen_at=SEEN),
        replica.papers.upsert([others[0]], seen_at=SEEN),
        db.papers.upsert([others[1]], seen_at=SEEN),
        replica.papers.upsert([others[2]], seen_at=SEEN),
        db.papers.upsert([others[3]], seen_at=SEEN),
    )
    assert sum(r.inserted for r in results) == 1
    stored = await db.papers.get(paper.id)
    assert stored is not None
    assert stored.featured_days == tuple(day1 + timedelta(days=i) for i in range(5))


async def test_day_lists_reflect_an_upsert_at_once(db: Database) -> None:
    from dataclasses import replace as _replace

    papers = load()[:3]
    await db.papers.upsert(papers, seen_at=SEEN)
    day = papers[0].featured_days[0]
    before = await db.papers.featured_on(day)
    latest = await db.papers.latest_featured_day()
    later = day.replace(year=day.year + 1)
    moved = _replace(papers[0], featured_days=(later,), upvotes=papers[0].upvotes + 1000)
    await db.papers.upsert([moved], seen_at=SEEN)
    assert await db.papers.latest_featured_day() == later != latest
    after = await db.papers.featured_on(day)
    assert after[0].id == papers[0].id and after[0].upvotes == papers[0].upvotes + 1000
    assert [p.id for p in after] == [p.id for p in sorted(before, key=lambda p: p.id != papers[0].id)]

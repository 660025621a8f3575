"""Full-text candidates: ranking, hyphen-joined forms, and user text that cannot inject query syntax."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.types import Paper
from storage import Database
from storage.search import fts5_match
from tests.storage.archive import load

SEEN = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)


def _paper(pid: str, title: str, abstract: str, **kw: object) -> Paper:
    return Paper(id=pid, title=title, abstract=abstract, featured_days=(date(2025, 11, 3),), **kw)  # type: ignore[arg-type]


async def test_title_match_ranks_above_abstract_only_match(db: Database) -> None:
    await db.papers.upsert(
        [
            _paper("2511.00001", "Efficient training of large models", "We study sparse transformers for vision."),
            _paper("2511.00002", "Sparse transformers at scale", "An efficient training recipe."),
            _paper("2511.00003", "Unrelated work on robotics", "Grasping objects with tactile sensors."),
        ],
        seen_at=SEEN,
    )
    results = await db.papers.search_candidates([["sparse", "transformers"]], 10)
    assert [p.id for p, _ in results] == ["2511.00002", "2511.00001"]
    assert results[0][1] > results[1][1] >= 0


async def test_bilevel_finds_bi_level_and_stemming_applies(db: Database) -> None:
    await db.papers.upsert(
        [
            _paper("2511.00011", "A bi-level optimization view of data selection", "We propose a method."),
            _paper("2511.00012", "Mixture-of-Experts routing", "Routing tokens to experts."),
            _paper("2511.00013", "Plain title", "Nothing hyphenated."),
        ],
        seen_at=SEEN,
    )
    assert [p.id for p, _ in await db.papers.search_candidates([["bilevel"]], 10)] == ["2511.00011"]
    assert [p.id for p, _ in await db.papers.search_candidates([["bi", "level"]], 10)] == ["2511.00011"]
    assert [p.id for p, _ in await db.papers.search_candidates([["mixtureofexperts"]], 10)] == ["2511.00012"]
    moe = await db.papers.search_candidates([["mixture", "of", "experts"]], 10)
    assert [p.id for p, _ in moe] == ["2511.00012"]
    # light stemming: "optimizations" finds "optimization"
    assert [p.id for p, _ in await db.papers.search_candidates([["optimizations"]], 10)] == ["2511.00011"]


async def test_phrases_are_ored_and_limit_applies(db: Database) -> None:
    papers = load()
    await db.papers.upsert(papers, seen_at=SEEN)
    video = await db.papers.search_candidates([["video"]], 500)
    agents = await db.papers.search_candidates([["agent"]], 500)
    both = await db.papers.search_candidates([["video"], ["agent"]], 500)
    assert {p.id for p, _ in both} == {p.id for p, _ in video} | {p.id for p, _ in agents}
    top = await db.papers.search_candidates([["video"], ["agent"]], 5)
    assert len(top) == 5
    scores = [s for _, s in both]
    assert scores == sorted(scores, reverse=True)
    assert all(s >= 0 for s in scores)


async def test_keywords_and_authors_are_searchable(db: Database) -> None:
    papers = load()[:50]
    await db.papers.upsert(papers, seen_at=SEEN)
    target = next(p for p in papers if p.ai_keywords and p.authors)
    author_words = target.authors[0].lower().split()
    found = await db.papers.search_candidates([author_words], 50)
    assert target.id in {p.id for p, _ in found}


async def test_phrase_needs_consecutive_words(db: Database) -> None:
    await db.papers.upsert(
        [
            _paper("2511.00021", "Language models as judges", "Large language models."),
            _paper("2511.00022", "Models of language acquisition", "Children learn language."),
        ],
        seen_at=SEEN,
    )
    found = await db.papers.search_candidates([["language", "models"]], 10)
    assert [p.id for p, _ in found] == ["2511.00021"]


@pytest.mark.parametrize(
    "words",
    [
        ['"'],
        ['"video'],
        ['video"', "OR", '"agent'],
        ["NEAR(video", "agent)"],
        ["video*"],
        ["*"],
        ["title:video"],
        ["{title", "abstract}:", "video"],
        ["^video"],
        ["video", "AND", "NOT"],
        ["'; DROP TABLE papers; --"],
        ["-video", "+agent"],
        [":"],
        ["(", ")"],
    ],
)
async def test_query_syntax_in_user_text_is_harmless(db: Database, words: list[str]) -> None:
    await db.papers.upsert(load()[:30], seen_at=SEEN)
    results = await db.papers.search_candidates([words], 10)
    assert isinstance(results, list)
    assert await db.papers.count() == 30


async def test_column_filter_syntax_is_treated_as_words(db: Database) -> None:
    await db.papers.upsert(
        [
            _paper("2511.00031", "Title about cats", "abstract about dogs"),
            _paper("2511.00032", "Title about dogs", "abstract about cats"),
        ],
        seen_at=SEEN,
    )
    # In raw FTS5, `title:dogs` would restrict to the title column; quoted, it is the phrase "title dogs".
    found = await db.papers.search_candidates([["title:dogs"]], 10)
    assert [p.id for p, _ in found] == []
    found = await db.papers.search_candidates([["title:about"]], 10)
    assert {p.id for p, _ in found} == {"2511.00031", "2511.00032"}


async def test_empty_phrases_find_nothing(db: Database) -> None:
    await db.papers.upsert(load()[:10], seen_at=SEEN)
    assert await db.papers.search_candidates([], 10) == []
    assert await db.papers.search_candidates([[]], 10) == []
    assert await db.papers.search_candidates([["***"]], 10) == []


async def test_search_index_follows_updates(db: Database) -> None:
    paper = _paper("2511.00041", "Old name", "Abstract text.")
    await db.papers.upsert([paper], seen_at=SEEN)
    await db.papers.upsert([_paper("2511.00041", "Quantum annealing", "Abstract text.")], seen_at=SEEN)
    assert await db.papers.search_candidates([["old", "name"]], 10) == []
    assert [p.title for p, _ in await db.papers.search_candidates([["quantum"]], 10)] == ["Quantum annealing"]


def test_fts5_match_quotes_every_phrase() -> None:
    assert fts5_match([["mixture", "of", "experts"], ["moe"]]) == '"mixture of experts" OR "moe"'
    assert fts5_match([['say"hi']]) == '"say""hi"'
    assert fts5_match([["*"], []]) is None


async def test_search_window_counts_every_full_text_match(db: Database) -> None:
    await db.papers.upsert(
        [
            _paper("2511.00031", "Sparse transformers", "Efficient."),
            _paper("2511.00032", "Dense transformers", "Also efficient."),
            _paper("2511.00033", "Robots", "Grasping with a multi-modal transformer."),
            _paper("2511.00034", "Unrelated", "Nothing here."),
        ],
        seen_at=SEEN,
    )
    window = await db.papers.search_window([["transformers"]], 2)
    assert window.total == 3 and len(window.candidates) == 2
    assert (await db.papers.search_window([["sparse"], ["robots"]], 10)).total == 2
    assert (await db.papers.search_window([["multimodal", "transformer"]], 10)).total == 1
    assert (await db.papers.search_window([], 10)).total == 0
    assert (await db.papers.search_window([['"', "*"]], 10)).total == 0

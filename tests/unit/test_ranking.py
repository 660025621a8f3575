"""Ranking moves papers the way the documented formula says (bot/ranking.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.query import parse
from bot.ranking import rank
from bot.types import Paper

TODAY = date(2025, 7, 31)


def paper(pid: str, title: str, abstract: str = "", *, upvotes: int = 10, day: date = TODAY, **kw: object) -> Paper:
    return Paper(id=pid, title=title, abstract=abstract, upvotes=upvotes, featured_days=(day,), **kw)  # type: ignore[arg-type]


def ids(listed: list) -> list[str]:  # type: ignore[type-arg]
    return [lp.paper.id for lp in listed]


def test_title_match_ranks_above_abstract_only_match() -> None:
    in_abstract = paper("a", "Sparse routing for language models", "We train a mixture of experts model.")
    in_title = paper("t", "Mixture of Experts at scale", "We train a sparse model.")
    for candidates in ([(in_abstract, 0.0), (in_title, 0.0)], [(in_abstract, -5.0), (in_title, -5.0)]):
        listed, total = rank(parse("moe"), candidates, today=TODAY, limit=10)
        assert ids(listed) == ["t", "a"]
        assert total == 2


def test_more_upvotes_rank_higher_at_equal_text_and_date() -> None:
    low = paper("low", "Diffusion policies", upvotes=3)
    high = paper("high", "Diffusion policies", upvotes=300)
    listed, _ = rank(parse("diffusion"), [(low, 0.0), (high, 0.0)], today=TODAY, limit=10)
    assert ids(listed) == ["high", "low"]


def test_recent_papers_rank_higher_at_equal_text_and_upvotes() -> None:
    old = paper("old", "Diffusion policies", day=date(2025, 3, 1))
    new = paper("new", "Diffusion policies", day=date(2025, 7, 30))
    listed, _ = rank(parse("diffusion"), [(old, 0.0), (new, 0.0)], today=TODAY, limit=10)
    assert ids(listed) == ["new", "old"]
    assert listed[0].score is not None and listed[1].score is not None
    # Half-life 30 days: five months of age costs nearly the whole recency weight (0.5).
    assert 0.4 < listed[0].score - listed[1].score < 0.5


def test_published_date_stands_in_for_a_missing_featured_day() -> None:
    old = Paper(id="old", title="Diffusion", abstract="", published_at=datetime(2024, 1, 1, tzinfo=UTC))
    new = Paper(id="new", title="Diffusion", abstract="", published_at=datetime(2025, 7, 29, tzinfo=UTC))
    listed, _ = rank(parse("diffusion"), [(old, 0.0), (new, 0.0)], today=TODAY, limit=10)
    assert ids(listed) == ["new", "old"]


def test_storage_bm25_decides_between_otherwise_equal_papers() -> None:
    # FTS5's bm25() is negative, lower = better.
    a = paper("a", "Diffusion policies")
    b = paper("b", "Diffusion policies")
    listed, _ = rank(parse("diffusion"), [(a, -1.0), (b, -9.0)], today=TODAY, limit=10)
    assert ids(listed) == ["b", "a"]
    listed, _ = rank(parse("diffusion"), [(a, 9.0), (b, 1.0)], today=TODAY, limit=10)
    assert ids(listed) == ["a", "b"]


def test_own_bm25_prefers_more_mentions_when_storage_gives_none() -> None:
    once = paper("once", "Policies", "A diffusion model and other things we study at length here.")
    often = paper("often", "Policies", "Diffusion diffusion diffusion: diffusion everywhere.")
    listed, _ = rank(parse("diffusion"), [(once, 0.0), (often, 0.0)], today=TODAY, limit=10)
    assert ids(listed) == ["often", "once"]


def test_only_matching_non_withdrawn_papers_are_kept_and_counted() -> None:
    hit = paper("hit", "Diffusion policies")
    miss = paper("miss", "Graph networks")
    gone = paper("gone", "Diffusion again", withdrawn=True)
    listed, total = rank(parse("diffusion"), [(hit, 0.0), (miss, 0.0), (gone, 0.0)], today=TODAY, limit=10)
    assert ids(listed) == ["hit"]
    assert total == 1
    assert listed[0].matched == ("diffusion (title)",)


def test_limit_cuts_the_list_but_not_the_total() -> None:
    papers = [(paper(str(i), "Diffusion", upvotes=i), 0.0) for i in range(7)]
    listed, total = rank(parse("diffusion"), papers, today=TODAY, limit=3)
    assert ids(listed) == ["6", "5", "4"]
    assert total == 7


def test_filter_only_queries_rank_by_upvotes_and_recency() -> None:
    a = paper("a", "x", upvotes=50)
    b = paper("b", "y", upvotes=5)
    listed, total = rank(parse("upvotes:>=1"), [(b, 0.0), (a, 0.0)], today=TODAY, limit=10)
    assert ids(listed) == ["a", "b"]
    assert total == 2

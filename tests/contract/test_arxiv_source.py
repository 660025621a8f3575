"""ArxivSource: the real `arxiv` package against a loopback fake of the arXiv API."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.errors import SourceError
from bot.progress import PageProgress
from bot.sources.arxiv import ArxivSource, build_query
from bot.types import Source
from tests.fakes.arxiv import FakeArxiv, serve_fake_arxiv

INTERVAL = 0.2


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with serve_fake_arxiv() as server:
        yield server


async def test_the_recorded_papers_are_mapped(fake: FakeArxiv) -> None:
    papers = await ArxivSource(api_url=fake.url, min_interval=INTERVAL).fetch(categories=["cs.RO"], query="neural")
    assert [p.id for p in papers] == ["2510.14968", "2510.14827"]
    first = papers[0]
    assert first.title == "RDD: Retrieval-Based Demonstration Decomposer for Planner Alignment in Long-Horizon Tasks"
    assert first.abstract.startswith("To tackle long-horizon tasks, recent hierarchical vision-language-action (VLAs)")
    assert "\n" not in first.abstract and "  " not in first.abstract
    assert first.authors == ("Mingxuan Yan", "Yuping Wang", "Zechun Liu", "Jiachen Li")
    assert first.published_at == datetime(2025, 10, 16, 17, 59, 37, tzinfo=UTC)
    assert first.categories[0] == "cs.RO" and "cs.LG" in first.categories
    assert first.sources == (Source.ARXIV,)
    assert first.featured_days == () and first.upvotes == 0


async def test_every_page_is_shown_with_its_papers(fake: FakeArxiv) -> None:
    out = io.StringIO()
    with PageProgress("arXiv", stream=out, force=True) as bar:
        source = ArxivSource(api_url=fake.url, min_interval=INTERVAL, progress=bar)
        papers = await source.fetch(categories=["cs.RO"], query="neural")
    assert (bar.pages, bar.papers) == (len(fake.requests), len(papers)) == (1, 2)
    assert "2 papers" in out.getvalue()


async def test_the_request_carries_the_category_query_newest_first(fake: FakeArxiv) -> None:
    await ArxivSource(api_url=fake.url, min_interval=INTERVAL).fetch(categories=["cs.CL", "cs.LG"], max_results=10)
    params = fake.requests[0].params
    assert params["search_query"] == "cat:cs.CL OR cat:cs.LG"
    assert params["sortBy"] == "submittedDate" and params["sortOrder"] == "descending"
    assert params["max_results"] == "10"


def test_query_building() -> None:
    assert build_query(["cs.RO"], None) == "cat:cs.RO"
    assert build_query(["cs.CL", "cs.LG"], "ti:llama") == "(cat:cs.CL OR cat:cs.LG) AND (ti:llama)"
    assert build_query([], "abs:diffusion") == "abs:diffusion"
    with pytest.raises(ValueError, match="categories or a query"):
        build_query([" "], None)


async def test_consecutive_fetches_are_spaced_by_the_minimum_interval(fake: FakeArxiv) -> None:
    source = ArxivSource(api_url=fake.url, min_interval=INTERVAL)
    await source.fetch(categories=["cs.RO"])
    await source.fetch(categories=["cs.RO"])
    # A second instance on the same API shares the pacing: arXiv's limit is per caller, not per object.
    await ArxivSource(api_url=fake.url, min_interval=INTERVAL).fetch(categories=["cs.RO"])
    times = [r.at for r in fake.requests]
    assert len(times) == 3
    assert all(later - earlier >= INTERVAL for earlier, later in itertools.pairwise(times))


async def test_503_is_a_source_error(fake: FakeArxiv) -> None:
    fake.fail_next = 10
    with pytest.raises(SourceError, match="HTTP 503"):
        await ArxivSource(api_url=fake.url, min_interval=0.01).fetch(categories=["cs.RO"])


async def test_one_503_is_retried_by_the_package(fake: FakeArxiv) -> None:
    fake.fail_next = 1
    papers = await ArxivSource(api_url=fake.url, min_interval=0.01).fetch(categories=["cs.RO"])
    assert len(papers) == 2


async def test_garbage_is_a_source_error_not_an_empty_result(fake: FakeArxiv) -> None:
    fake.garbage_next = 1
    with pytest.raises(SourceError, match="malformed"):
        await ArxivSource(api_url=fake.url, min_interval=0.01).fetch(categories=["cs.RO"])


async def test_connection_refused_is_a_source_error() -> None:
    with serve_fake_arxiv() as server:
        url = server.url
    with pytest.raises(SourceError, match="connection failed"):
        await ArxivSource(api_url=url, min_interval=0.01).fetch(categories=["cs.RO"])


async def test_a_paper_is_looked_up_by_its_id(fake: FakeArxiv) -> None:
    source = ArxivSource(api_url=fake.url, min_interval=0.01)
    paper = await source.paper("2510.14827")
    assert paper is not None and paper.id == "2510.14827" and paper.sources == (Source.ARXIV,)
    assert fake.requests[0].params["id_list"] == "2510.14827"
    assert await source.paper("2401.00001") is None


async def test_a_lookup_by_id_that_fails_is_a_source_error(fake: FakeArxiv) -> None:
    fake.fail_next = 5
    with pytest.raises(SourceError):
        await ArxivSource(api_url=fake.url, min_interval=0.01).paper("2510.14827")

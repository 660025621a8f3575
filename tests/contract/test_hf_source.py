"""HfDailyPapers over huggingface_hub's real HTTP stack against a loopback fake of the Hub."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import date

import huggingface_hub
import pytest
from huggingface_hub import HfApi
from pydantic import SecretStr

from bot.errors import SourceError
from bot.progress import PageProgress
from bot.sources.hf import HfDailyPapers
from bot.types import canonical_arxiv_id
from tests.fakes.hf import FakeHub, archive_records, featured_day, iso_week, serve_fake_hub

TOKEN = "hf_SuperSecretTokenValue123"
BUSY_DAY = date(2025, 9, 30)  # 82 papers, the archive's busiest day


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with serve_fake_hub() as fake:
        yield fake


@pytest.fixture
def source(hub: FakeHub) -> HfDailyPapers:
    return HfDailyPapers(endpoint=hub.url, token=SecretStr(TOKEN), timeout=0.5)


def _archive_ids(predicate: object) -> list[str]:
    assert callable(predicate)
    return [canonical_arxiv_id(r["paper"]["id"]) for r in archive_records() if predicate(r)]


def test_huggingface_hub_itself_accepts_the_fake(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub's own user agent looks for an AI-agent harness, fetching a registry from
    # huggingface.co itself (whatever the endpoint): telemetry off keeps the library on the fake.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_TELEMETRY", True)
    papers = list(HfApi(endpoint=hub.url).list_daily_papers(date=BUSY_DAY.isoformat(), limit=100, token=False))
    assert len(papers) == 82
    assert hub.requests[-1].path == "/api/daily_papers"


async def test_a_day_returns_exactly_the_archive_records_of_that_day(source: HfDailyPapers, hub: FakeHub) -> None:
    papers = await source.fetch_day(BUSY_DAY)
    assert [p.id for p in papers] == _archive_ids(lambda r: featured_day(r) == BUSY_DAY.isoformat())
    assert all(p.featured_days == (BUSY_DAY,) for p in papers)
    assert source.last_skipped == 0
    request = hub.requests[0]
    assert request.params == {"date": "2025-09-30", "p": "0", "limit": "100"}
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_a_day_keeps_the_fields_huggingface_hub_paperinfo_drops(source: HfDailyPapers) -> None:
    papers = {p.id: p for p in await source.fetch_day(date(2025, 11, 27))}
    paper = papers["2511.17918"]
    assert paper.upvotes == 0
    assert paper.ai_summary is not None and paper.ai_summary.startswith("Frequency-Adaptive")
    assert "3DGS" in paper.ai_keywords
    assert paper.github_repo == "https://github.com/bbangsik13/FASR"
    assert paper.project_page == "https://bbangsik13.github.io/FASR"


async def test_without_a_token_no_authorization_header_is_sent(hub: FakeHub) -> None:
    await HfDailyPapers(endpoint=hub.url, timeout=2).fetch_day(BUSY_DAY)
    assert "authorization" not in hub.requests[0].headers


async def test_a_week_pages_until_a_short_page(source: HfDailyPapers, hub: FakeHub) -> None:
    papers = await source.fetch_week("2025-W08")
    assert [p.id for p in papers] == _archive_ids(lambda r: iso_week(featured_day(r)) == "2025-W08")
    assert len(papers) == 154
    assert [r.params["p"] for r in hub.requests] == ["0", "1"]


async def test_a_month_pages_across_many_pages(source: HfDailyPapers, hub: FakeHub) -> None:
    papers = await source.fetch_month("2025-09")
    assert len(papers) == 535
    assert [p.id for p in papers] == _archive_ids(lambda r: featured_day(r).startswith("2025-09"))
    assert [r.params["p"] for r in hub.requests] == ["0", "1", "2", "3", "4", "5"]


async def test_a_month_shows_its_pages_and_papers_as_they_arrive(source: HfDailyPapers, hub: FakeHub) -> None:
    out = io.StringIO()
    with PageProgress("HF month 2025-09", stream=out, force=True) as bar:
        papers = await source.fetch_month("2025-09", progress=bar)
    assert (bar.pages, bar.papers) == (len(hub.requests), len(papers)) == (6, 535)
    drawn = out.getvalue()
    assert "HF month 2025-09" in drawn and "6page" in drawn.replace(" ", "") and "535 papers" in drawn


def test_progress_is_drawn_only_on_a_terminal() -> None:
    out = io.StringIO()  # not a terminal: logs, pipes and cron stay clean
    with PageProgress("HF month 2025-09", stream=out) as bar:
        bar.page(100)
    assert out.getvalue() == "" and bar.papers == 100


async def test_an_exact_multiple_of_the_page_size_ends_on_an_empty_page(hub: FakeHub) -> None:
    source = HfDailyPapers(endpoint=hub.url, timeout=2)
    source.page_size = 41  # 82 papers on the busy day: two full pages, then an empty one
    papers = await source.fetch_day(BUSY_DAY)
    assert len(papers) == 82
    assert [r.params["p"] for r in hub.requests] == ["0", "1", "2"]


async def test_paging_is_bounded(hub: FakeHub) -> None:
    source = HfDailyPapers(endpoint=hub.url, timeout=2)
    source.page_size, source.max_pages = 10, 3
    papers = await source.fetch_day(BUSY_DAY)
    assert len(papers) == 30
    assert len(hub.requests) == 3


async def test_bad_week_and_month_are_refused_before_any_request(source: HfDailyPapers, hub: FakeHub) -> None:
    with pytest.raises(ValueError, match="ISO week"):
        await source.fetch_week("2025-9")
    with pytest.raises(ValueError, match="month"):
        await source.fetch_month("2025-13")
    assert hub.requests == []


async def test_paper_found_and_unknown(source: HfDailyPapers, hub: FakeHub) -> None:
    paper = await source.paper("https://arxiv.org/abs/2404.03648v2")
    assert paper is not None
    assert paper.id == "2404.03648"
    assert hub.requests[-1].path == "/api/papers/2404.03648"
    assert await source.paper("2999.99999") is None


async def test_search_matches_titles_and_honours_the_limit(source: HfDailyPapers, hub: FakeHub) -> None:
    papers = await source.search("llama", limit=5)
    assert len(papers) == 5
    assert all("llama" in p.title.lower() for p in papers)
    assert hub.requests[-1].params == {"q": "llama", "limit": "5"}


@pytest.mark.parametrize(
    ("knob", "message"),
    [
        ("fail_next", "HTTP 500"),
        ("malformed_json_next", "malformed JSON"),
        ("not_a_list_next", "expected a JSON list"),
        ("slow_next", "timed out"),
    ],
)
async def test_each_fault_is_a_source_error_with_a_clear_message(
    source: HfDailyPapers, hub: FakeHub, knob: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    setattr(hub, knob, 1)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError, match=message) as info:
        await source.fetch_day(BUSY_DAY)
    assert "day 2025-09-30" in str(info.value)
    assert TOKEN not in str(info.value)
    assert TOKEN not in caplog.text


async def test_connection_refused_is_a_source_error() -> None:
    with serve_fake_hub() as fake:
        url = fake.url
    with pytest.raises(SourceError, match="connection failed"):
        await HfDailyPapers(endpoint=url, token=SecretStr(TOKEN), timeout=1).fetch_day(BUSY_DAY)


async def test_a_short_retry_after_is_honoured_once(source: HfDailyPapers, hub: FakeHub) -> None:
    hub.rate_limit_next, hub.retry_after = 1, "0.1"
    papers = await source.fetch_day(BUSY_DAY)
    assert len(papers) == 82
    assert len(hub.requests) == 2
    assert hub.requests[1].at - hub.requests[0].at >= 0.1


async def test_rate_limited_twice_is_a_source_error(source: HfDailyPapers, hub: FakeHub) -> None:
    hub.rate_limit_next, hub.retry_after = 2, "0"
    with pytest.raises(SourceError, match="429"):
        await source.fetch_day(BUSY_DAY)
    assert len(hub.requests) == 2


@pytest.mark.parametrize("retry_after", ["120", None, "Wed, 21 Oct 2015 07:28:00 GMT"])
async def test_a_long_or_missing_retry_after_fails_at_once(
    source: HfDailyPapers, hub: FakeHub, retry_after: str | None
) -> None:
    hub.rate_limit_next, hub.retry_after = 1, retry_after
    with pytest.raises(SourceError, match="rate limited"):
        await source.fetch_day(BUSY_DAY)
    assert len(hub.requests) == 1


async def test_a_partial_day_keeps_the_good_papers(
    source: HfDailyPapers, hub: FakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    hub.corrupt_index = 7
    with caplog.at_level(logging.WARNING, logger="bot.sources.hf"):
        papers = await source.fetch_day(BUSY_DAY)
    expected = _archive_ids(lambda r: featured_day(r) == BUSY_DAY.isoformat())
    assert [p.id for p in papers] == expected[:7] + expected[8:]
    assert source.last_skipped == 1
    assert "skipped record 7" in caplog.text
    assert TOKEN not in caplog.text

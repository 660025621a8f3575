"""parse_daily_paper on real records from the shared archive, quirk by quirk."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import pytest
from huggingface_hub.hf_api import PaperInfo

from bot.errors import SourceError
from bot.sources.records import normalise_whitespace, parse_daily_paper, safe_link
from bot.types import Source
from tests.shared_data import ARCHIVE


@cache
def _month(month: str) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads((ARCHIVE / f"daily_papers_{month}.json").read_text(encoding="utf-8")))


def record(month: str, paper_id: str, day: str | None = None) -> dict[str, Any]:
    for r in _month(month):
        if r["paper"]["id"] == paper_id and (day is None or r["paper"]["submittedOnDailyAt"].startswith(day)):
            return copy.deepcopy(r)
    raise LookupError(paper_id)


def test_every_archive_record_parses() -> None:
    count = 0
    for path in sorted(ARCHIVE.glob("*.json")):
        for raw in json.loads(path.read_text(encoding="utf-8")):
            paper = parse_daily_paper(raw)
            assert paper.title and paper.featured_days and paper.sources == (Source.HF,)
            count += 1
    assert count == 7585


def test_a_full_record_maps_every_field() -> None:
    paper = parse_daily_paper(record("2025-11", "2511.17918"))
    assert paper.id == "2511.17918"
    assert (
        paper.title == "Frequency-Adaptive Sharpness Regularization for Improving 3D Gaussian Splatting Generalization"
    )
    assert paper.abstract.startswith("Despite 3D Gaussian Splatting (3DGS) excelling")
    assert paper.authors == ("Youngsik Yun", "Dongjun Gu", "Youngjung Uh")
    assert paper.published_at == datetime(2025, 11, 22, 5, 4, 46, tzinfo=UTC)
    assert paper.featured_days == (date(2025, 11, 27),)
    assert paper.ai_summary is not None and paper.ai_summary.startswith("Frequency-Adaptive Sharpness")
    assert paper.ai_keywords[:2] == ("3D Gaussian Splatting", "3DGS")
    assert paper.github_repo == "https://github.com/bbangsik13/FASR"
    assert paper.github_stars == 2
    assert paper.project_page == "https://bbangsik13.github.io/FASR"
    assert paper.thumbnail is not None and paper.thumbnail.startswith("https://cdn-thumbnails.huggingface.co/")
    assert paper.withdrawn is False


def test_zero_upvotes_stay_zero_where_paperinfo_says_none() -> None:
    raw = record("2025-11", "2511.17918")
    assert raw["paper"]["upvotes"] == 0
    assert PaperInfo(**copy.deepcopy(raw)).upvotes is None  # the finding this module exists for
    assert parse_daily_paper(raw).upvotes == 0


def test_fields_paperinfo_drops_are_kept() -> None:
    raw = record("2025-11", "2511.17918")
    info = PaperInfo(**copy.deepcopy(raw))
    assert info.ai_summary is None and info.github_repo is None and info.project_page is None
    paper = parse_daily_paper(raw)
    assert paper.ai_summary and paper.github_repo and paper.project_page


def test_hard_line_wraps_and_double_spaces_are_normalised() -> None:
    raw = record("2023-05", next(r["paper"]["id"] for r in _month("2023-05") if "\n" in r["paper"]["title"]))
    assert "\n" in raw["paper"]["title"]
    paper = parse_daily_paper(raw)
    assert "\n" not in paper.title and "  " not in paper.title
    assert "\n" not in paper.abstract and "  " not in paper.abstract
    assert paper.title == " ".join(raw["paper"]["title"].split())


def test_published_after_the_featured_day_keeps_both_dates() -> None:
    raw = next(r for r in _month("2024-04") if r["paper"]["publishedAt"] > r["paper"]["submittedOnDailyAt"])
    paper = parse_daily_paper(raw)
    assert paper.published_at is not None and paper.first_featured is not None
    assert paper.published_at.date() >= paper.first_featured
    assert paper.featured_days == (date.fromisoformat(raw["paper"]["submittedOnDailyAt"][:10]),)


@pytest.mark.parametrize(("month", "paper_id"), [("2023-06", "2306.05949"), ("2024-10", "2410.07062")])
def test_withdrawn_papers_are_flagged(month: str, paper_id: str) -> None:
    raw = record(month, paper_id)
    assert "withdrawnAt" in raw["paper"]
    assert parse_daily_paper(raw).withdrawn is True


def test_the_two_day_paper_gives_one_featured_day_per_record() -> None:
    first = parse_daily_paper(record("2024-04", "2404.03648", "2024-04-05"))
    second = parse_daily_paper(record("2024-04", "2404.03648", "2024-04-08"))
    assert first.featured_days == (date(2024, 4, 5),)
    assert second.featured_days == (date(2024, 4, 8),)


def test_3303_authors_and_hidden_authors_are_kept() -> None:
    raw = record("2025-07", "2507.06261")
    assert len(parse_daily_paper(raw).authors) == 3303
    hidden = record("2023-05", "2305.09636")
    assert any(a["hidden"] for a in hidden["paper"]["authors"])
    names = [a["name"].strip() for a in hidden["paper"]["authors"]]
    assert list(parse_daily_paper(hidden).authors) == [n for n in names if n]


def test_optional_fields_missing_give_none_and_empty() -> None:
    raw = record("2023-07", "2307.10169")
    assert not {"ai_summary", "githubRepo", "githubStars", "projectPage", "organization"} & raw["paper"].keys()
    paper = parse_daily_paper(raw)
    assert paper.ai_summary is None and paper.github_repo is None and paper.github_stars is None
    assert paper.project_page is None and paper.organization is None


def test_organization_prefers_fullname_then_name() -> None:
    raw = next(r for r in _month("2025-11") if "organization" in r["paper"])
    assert parse_daily_paper(raw).organization == raw["paper"]["organization"]["fullname"]
    del raw["paper"]["organization"]["fullname"]
    del raw["organization"]
    assert parse_daily_paper(raw).organization == raw["paper"]["organization"]["name"]


def test_the_bare_paper_shape_of_api_papers_id_parses() -> None:
    raw = record("2024-04", "2404.03648")
    paper = parse_daily_paper(raw["paper"])
    assert paper.id == "2404.03648"
    assert paper.title == normalise_whitespace(raw["paper"]["title"])
    assert paper.upvotes == raw["paper"]["upvotes"]
    assert paper.thumbnail is None and paper.comments == 0


def test_a_search_result_without_a_featured_day_has_none() -> None:
    raw = record("2024-04", "2404.03648")
    del raw["paper"]["submittedOnDailyAt"]
    assert parse_daily_paper(raw).featured_days == ()


def test_a_versioned_id_is_canonicalised() -> None:
    raw = record("2024-04", "2404.03648")
    raw["paper"]["id"] = "2404.03648v3"
    assert parse_daily_paper(raw).id == "2404.03648"


def test_links_must_be_http() -> None:
    raw = record("2025-11", "2511.17918")
    raw["paper"]["projectPage"] = "javascript:alert(1)"
    raw["paper"]["githubRepo"] = "ftp://example.org/repo"
    raw["thumbnail"] = "data:image/png;base64,AAAA"
    paper = parse_daily_paper(raw)
    assert paper.project_page is None and paper.github_repo is None and paper.thumbnail is None
    assert safe_link(" http://example.org/x ") == "http://example.org/x"
    assert safe_link("https:///nohost") is None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["paper"].pop("id"), r"paper\.id: Field required"),
        (lambda r: r["paper"].__setitem__("id", "not-an-id"), "not an arXiv id"),
        (lambda r: r["paper"].__setitem__("upvotes", "many"), r"paper\.upvotes"),
        (lambda r: r["paper"].__setitem__("authors", "Alice"), r"paper\.authors"),
        (lambda r: (r["paper"].pop("title"), r.pop("title")), "no title"),
        (lambda r: r["paper"].__setitem__("upvotes", -3), "negative"),
    ],
)
def test_malformed_records_raise_source_error_naming_the_problem(mutate: Any, message: str) -> None:
    raw = record("2025-11", "2511.17918")
    mutate(raw)
    with pytest.raises(SourceError, match=message):
        parse_daily_paper(raw)


def test_a_non_object_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="not an object"):
        parse_daily_paper(["a", "list"])  # type: ignore[arg-type]


def test_unknown_fields_are_ignored() -> None:
    raw = record("2025-11", "2511.17918")
    raw["somethingNew"] = {"x": 1}
    raw["paper"]["anotherNewThing"] = [1, 2]
    assert parse_daily_paper(raw).id == "2511.17918"

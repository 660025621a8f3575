"""Daily Papers files and folders as a source, and the bundled sample."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.errors import SourceError
from bot.sources.files import count_records, daily_papers_files, iter_daily_papers_files
from bot.sources.sample import SAMPLE_FIRST_DAY, SAMPLE_LAST_DAY, sample_paths
from tests.shared_data import ARCHIVE

APRIL = ARCHIVE / "daily_papers_2024-04.json"


def test_a_file_yields_one_paper_per_record_in_order() -> None:
    raw = json.loads(APRIL.read_text(encoding="utf-8"))
    papers = list(iter_daily_papers_files([APRIL]))
    assert [p.id for p in papers] == [r["paper"]["id"] for r in raw]
    assert count_records([APRIL]) == len(raw) == 200


def test_the_two_day_paper_appears_once_per_day_in_its_file() -> None:
    days = [p.featured_days for p in iter_daily_papers_files([APRIL]) if p.id == "2404.03648"]
    assert days == [(date(2024, 4, 5),), (date(2024, 4, 8),)]


def test_a_folder_reads_all_json_files_in_name_order(tmp_path: Path) -> None:
    shutil.copy(APRIL, tmp_path / "b.json")
    shutil.copy(ARCHIVE / "daily_papers_2023-05.json", tmp_path / "a.json")
    (tmp_path / "notes.txt").write_text("not json", encoding="utf-8")
    assert [p.name for p in daily_papers_files([tmp_path])] == ["a.json", "b.json"]
    papers = list(iter_daily_papers_files([tmp_path]))
    assert papers[0].featured_days[0].isoformat().startswith("2023-05")
    assert papers[-1].featured_days[0].isoformat().startswith("2024-04")
    assert count_records([tmp_path]) == len(papers)


def test_the_whole_archive_counts_7585_records() -> None:
    assert count_records([ARCHIVE]) == 7585


def test_malformed_records_are_skipped_with_file_and_index(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    raw = json.loads(APRIL.read_text(encoding="utf-8"))[:5]
    raw[2] = {"paper": {"title": "no id"}}
    raw[3] = "not an object"
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.sources.files"):
        papers = list(iter_daily_papers_files([path]))
    assert [p.id for p in papers] == [raw[0]["paper"]["id"], raw[1]["paper"]["id"], raw[4]["paper"]["id"]]
    assert f"{path}: skipped record 2" in caplog.text
    assert f"{path}: skipped record 3" in caplog.text


@pytest.mark.parametrize(
    ("content", "message"),
    [('{"paper": {}}', "expected a JSON array"), ('[{"paper": ', "malformed JSON"), (b"\xff\xfe[", "malformed JSON")],
)
def test_a_malformed_file_is_a_source_error_naming_it(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "broken.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError, match=message) as info:
        list(iter_daily_papers_files([path]))
    assert "broken.json" in str(info.value)


def test_a_missing_path_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        list(iter_daily_papers_files([tmp_path / "nope.json"]))


def test_the_bundled_sample_is_two_weeks_of_real_records() -> None:
    paths = sample_paths()
    assert paths and all(p.is_file() and p.suffix == ".json" for p in paths)
    assert sum(p.stat().st_size for p in paths) < 1_500_000
    papers = list(iter_daily_papers_files(paths))
    days = sorted({d for p in papers for d in p.featured_days})
    assert days[0] == SAMPLE_FIRST_DAY and days[-1] == SAMPLE_LAST_DAY
    assert len(days) == 10 and 150 <= len(papers) <= 400
    assert (paths[0].parent / "README.md").read_text(encoding="utf-8").count("ec86fb4579a6d9d763e1191d09ee5ce5186f5187")


def test_the_sample_records_are_verbatim_archive_records() -> None:
    archive = {
        (r["paper"]["id"], r["paper"]["submittedOnDailyAt"]): r
        for r in json.loads((ARCHIVE / "daily_papers_2025-11.json").read_text(encoding="utf-8"))
    }
    for path in sample_paths():
        for r in json.loads(path.read_text(encoding="utf-8")):
            assert r == archive[(r["paper"]["id"], r["paper"]["submittedOnDailyAt"])]

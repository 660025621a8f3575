"""`paperboy preview` for real, then the page opened in headless Chromium: every paper of the digest is drawn,
in the Slack column and in the Discord column.

CI installs Chromium from Debian's packages (.ci/run); there a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
# The morning after the bundled sample's last Daily Papers day, with two trial topics.
AT = "2025-11-29T09:00Z"
TOPICS = ("agent -survey", 'moe OR "mixture of experts"')


def chromium() -> str:
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it with `apt-get install -y chromium`")
    pytest.skip(f"needs headless Chromium at {CHROMIUM} (Debian: apt-get install -y chromium)")


class Columns(HTMLParser):
    """The visible text and the link targets of each `<section id=...>` of the dumped DOM."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: dict[str, str] = {}
        self.links: dict[str, list[str]] = {}
        self._column = ""
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section" and not self._column:
            self._column = dict(attrs).get("id") or "?"
            self.text.setdefault(self._column, "")
            self.links.setdefault(self._column, [])
        if not self._column or tag in ("br", "hr", "meta", "img", "input"):
            return
        self._depth += 1
        href = dict(attrs).get("href")
        if href:
            self.links[self._column].append(href)

    def handle_endtag(self, tag: str) -> None:
        if self._column:
            self._depth -= 1
            if self._depth == 0:
                self._column = ""

    def handle_data(self, data: str) -> None:
        if self._column:
            self.text[self._column] += data


def norm(text: str) -> str:
    return " ".join(text.replace("\u200b", "").split())


def run_preview(data_dir: Path, out: Path) -> dict[str, Any]:
    env = {**os.environ, "PAPERBOY_DATA_DIR": str(data_dir), "PAPERBOY_OFFLINE": "true"}
    args = [sys.executable, "-m", "paperboy", "preview", "--at", AT, "--out", str(out), "--json"]
    for topic in TOPICS:
        args += ["--topic", topic]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def dump_dom(browser: str, page: Path) -> str:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_preview_page_in_chromium_shows_every_paper_in_both_columns(tmp_path: Path) -> None:
    browser = chromium()
    out = tmp_path / "out" / "preview.html"
    summary = run_preview(tmp_path / "data", out)
    assert summary["path"] == str(out)
    papers = summary["papers"]
    assert len(papers) >= 10, "the sample's trending papers plus topic matches"
    assert {p["reason"] for p in papers} == {"trending", "topic"}

    dom = dump_dom(browser, out)
    columns = Columns()
    columns.feed(dom)
    assert set(columns.text) == {"slack", "discord"}
    assert f"{len(papers)} papers" in dom
    for column in ("slack", "discord"):
        text = norm(columns.text[column])
        for paper in papers:
            title = norm(paper["title"])
            assert title[:200] in text, (column, paper["id"], title)
            assert f"https://huggingface.co/papers/{paper['id']}" in columns.links[column], (column, paper["id"])
        assert all(link.startswith(("http://", "https://")) for link in columns.links[column])
    assert "<script" not in dom.lower()


def test_preview_of_an_unknown_channel_and_a_bad_topic_are_clear_errors(tmp_path: Path) -> None:
    env = {**os.environ, "PAPERBOY_DATA_DIR": str(tmp_path), "PAPERBOY_OFFLINE": "true"}
    base = [sys.executable, "-m", "paperboy", "preview", "--at", AT]
    unknown = subprocess.run(
        [*base, "--channel", "slack:T9:C9"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert unknown.returncode == 2
    assert "no channel slack:T9:C9" in unknown.stderr
    bad = subprocess.run(
        [*base, "--topic", "moe OR ("], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert bad.returncode == 2
    assert "--topic 'moe OR (' does not parse" in bad.stderr and "position" in bad.stderr
    assert not (tmp_path / "preview.html").exists()

"""Long network work shows progress on a terminal only, and `--json` answers for scripts.

Real processes against the loopback fake Hub: `ingest --month` fetches six pages; on a terminal (a pty as
stderr) a bar counts them with the papers, through a pipe nothing but the answer is printed.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.hf import FakeHub, archive_records, featured_day, serve_fake_hub


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with serve_fake_hub() as fake:
        yield fake


def env_for(tmp_path: Path, hub: FakeHub) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "SLACK_", "DISCORD_", "HF_"))}
    return clean | {"PAPERBOY_DATA_DIR": str(tmp_path), "HF_ENDPOINT": hub.url, "PAPERBOY_LOG_LEVEL": "WARNING"}


def month_ids(month: str) -> set[str]:
    return {str(r["paper"]["id"]) for r in archive_records() if featured_day(r).startswith(month)}


def test_ingest_json_through_a_pipe_has_no_bar(tmp_path: Path, hub: FakeHub) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "paperboy", "ingest", "--month", "2025-09", "--json"],
        capture_output=True,
        text=True,
        env=env_for(tmp_path, hub),
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)
    assert row["source"] == "hf" and row["papers"] == len(month_ids("2025-09")) and row["new"] == row["papers"]
    assert row["updated"] == 0 and row["summary"].startswith(f"{row['papers']} papers")
    assert "page" not in done.stderr  # no bar when stderr is not a terminal


def test_ingest_on_a_terminal_shows_pages_and_papers(tmp_path: Path, hub: FakeHub) -> None:
    leader, follower = pty.openpty()
    # A terminal 100 columns wide (a fresh pty is 0 x 0, which leaves a bar no room).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # EIO once the process and its pty side are gone
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperboy", "ingest", "--month", "2025-09"],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env_for(tmp_path, hub),
        cwd=tmp_path,
    )
    os.close(follower)
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    os.close(leader)
    assert proc.returncode == 0
    papers = len(month_ids("2025-09"))
    assert out.decode().strip() == f"{papers} papers ({papers} new, 0 updated)"
    drawn = b"".join(chunks).decode(errors="replace")
    assert "HF month 2025-09" in drawn
    assert "6/?" in drawn.replace(" ", "") or "6page" in drawn.replace(" ", ""), drawn[-500:]
    assert f"{papers} papers" in drawn


def test_digest_preview_and_run_json(tmp_path: Path, hub: FakeHub) -> None:
    env = env_for(tmp_path, hub) | {"PAPERBOY_OFFLINE": "true"}

    def paperboy(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "paperboy", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    chat = paperboy("chat", stdin="/papers subscribe agent\nquit\n")
    assert chat.returncode == 0, chat.stderr
    at = "2025-11-29T09:05:00+00:00"
    preview = paperboy("digest", "preview", "--channel", "console:local:console", "--at", at, "--json")
    assert preview.returncode == 0, preview.stderr
    digest = json.loads(preview.stdout)
    assert digest["channel"] == "console:local:console" and digest["day"] == "2025-11-29"
    assert digest["entries"] and {"id", "title", "reason", "matched", "url"} <= digest["entries"][0].keys()
    assert {p["reason"] for p in digest["entries"]} <= {"trending", "topic", "rising"}
    assert all(p["matched"] for p in digest["entries"] if p["reason"] == "topic")
    run = paperboy("digest", "run", "--channel", "console:local:console", "--at", at, "--json")
    assert run.returncode == 0, run.stderr
    outcome = json.loads(run.stdout)  # the console channel's post goes to stderr: stdout is JSON only
    assert outcome["channel"] == "console:local:console" and outcome["ok"] is True
    assert outcome["outcome"] == "sent" and outcome["papers"] == len(digest["entries"])

"""The paperboy command line as an operator uses it: real processes, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.sources.sample import SAMPLE_LAST_DAY


def paperboy(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "SLACK_", "DISCORD_"))}
    clean |= {"PAPERBOY_DATA_DIR": str(tmp_path), "PAPERBOY_OFFLINE": "true", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "paperboy", *args], capture_output=True, text=True, env=clean, cwd=tmp_path, timeout=120
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli")
    done = paperboy(path, "ingest", "--sample")
    assert done.returncode == 0, done.stderr
    assert "220 papers (220 new, 0 updated)" in done.stdout
    return path


def test_search_json(data_dir: Path) -> None:
    done = paperboy(data_dir, "search", "agent -survey", "--limit", "5", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == 5
    for row in rows:
        assert {"id", "title", "upvotes", "score", "matched"} <= row.keys()
        assert row["matched"] and isinstance(row["score"], float)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


def test_today_json_for_a_date(data_dir: Path) -> None:
    done = paperboy(data_dir, "today", "--date", SAMPLE_LAST_DAY.isoformat(), "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows and all(SAMPLE_LAST_DAY.isoformat() in r["featured_days"] for r in rows)
    assert [r["upvotes"] for r in rows] == sorted((r["upvotes"] for r in rows), reverse=True)


def test_ingest_twice_changes_nothing(data_dir: Path) -> None:
    done = paperboy(data_dir, "ingest", "--sample")
    assert done.returncode == 0 and "(0 new, 0 updated)" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", '"unclosed'), "position"),
        (("digest", "preview", "--channel", "slack:T1"), "PLATFORM:WORKSPACE:CHANNEL"),
        (("digest", "preview", "--channel", "slack:T1:C1"), "has no channel"),
        (("ingest", "--file", "/nonexistent.json"), "no such file"),
        (("ingest", "--date", "2025-11-27"), "PAPERBOY_OFFLINE"),
    ],
)
def test_errors_are_one_line_without_traceback(data_dir: Path, args: tuple[str, ...], message: str) -> None:
    done = paperboy(data_dir, *args)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_settings_are_listed_at_once(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PAPERBOY_DIGEST__TIMEZONE=Nowhere/Land\nPAPERBOY_HTTP__PORT=-1\n")
    done = paperboy(tmp_path, "today")
    assert done.returncode == 2
    assert "PAPERBOY_DIGEST__TIMEZONE" in done.stderr and "PAPERBOY_HTTP__PORT" in done.stderr
    assert "Traceback" not in done.stderr


def test_version() -> None:
    done = subprocess.run([sys.executable, "-m", "paperboy", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("paperboy ")


def test_chat_then_digest_preview_and_run_at_a_given_time(data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "SLACK_", "DISCORD_"))}
    env |= {"PAPERBOY_DATA_DIR": str(data_dir), "PAPERBOY_OFFLINE": "true"}
    chat = subprocess.run(
        [sys.executable, "-m", "paperboy", "chat"],
        input="/papers settings max 3\n/papers topics\nquit\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=data_dir,
        timeout=120,
    )
    assert chat.returncode == 0, chat.stderr
    assert "max 3" in chat.stdout and "no topics yet" in chat.stdout
    at = f"{SAMPLE_LAST_DAY.isoformat()}T23:00:00+00:00"
    preview = paperboy(data_dir, "digest", "preview", "--channel", "console:local:console", "--at", at)
    assert preview.returncode == 0, preview.stderr
    assert "Paperboy digest" in preview.stdout and "3 trending" in preview.stdout
    run = paperboy(data_dir, "digest", "run", "--channel", "console:local:console", "--at", at)
    assert run.returncode == 0, run.stderr
    assert "[posted to #console]" in run.stdout and "console:local:console: sent (3 papers)" in run.stdout
    again = paperboy(data_dir, "digest", "run", "--channel", "console:local:console", "--at", at)
    assert "already" in again.stdout


def test_jobs_list_names_every_job_and_when_it_runs(data_dir: Path) -> None:
    done = paperboy(data_dir, "jobs", "list")
    assert done.returncode == 0, done.stderr
    names = [line.split()[0] for line in done.stdout.splitlines()]
    assert names == ["ingest", "arxiv", "digests", "followups", "poll", "rising", "weekly", "reminders", "recover"]
    assert "off (offline)" in done.stdout and "every 1 h" in done.stdout


def test_a_job_runs_once_by_hand_at_a_pretend_time(tmp_path: Path) -> None:
    assert paperboy(tmp_path, "ingest", "--sample").returncode == 0
    # The console channel appears at the first run (at that pretend time, after its 09:00 slot) ...
    first = paperboy(tmp_path, "jobs", "run", "digests", "--at", "2025-11-29T09:05Z")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "digests: no digests due"
    # ... and the next morning's digest is due: posted once to the console, whatever the real date.
    second = paperboy(tmp_path, "jobs", "run", "digests", "--at", "2025-11-30T09:05Z")
    assert second.returncode == 0, second.stderr
    assert "Paperboy digest · Sun 30 Nov 2025" in second.stdout
    assert second.stdout.strip().endswith("digests: 1 digests: 1 sent")
    again = paperboy(tmp_path, "jobs", "run", "digests", "--at", "2025-11-30T09:06Z")
    assert again.stdout.strip() == "digests: no digests due"
    assert paperboy(tmp_path, "jobs", "run", "recover").stdout.strip() == "recover: nothing unfinished"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("jobs", "run", "nope"), "There is no job `nope`"),
        (("jobs", "run", "digest"), "Did you mean `digests`?"),
        (("jobs", "run", "digests", "--at", "2025-11-30T09:05"), "--at needs a timezone"),
    ],
)
def test_jobs_mistakes_exit_2_with_one_line(data_dir: Path, args: tuple[str, ...], message: str) -> None:
    done = paperboy(data_dir, *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_piped_chat_at_a_pretend_time_then_digest_as_json(tmp_path: Path) -> None:
    """Scriptable for evaluation: commands piped one a line at a pretend time, the digest as JSON."""
    assert paperboy(tmp_path, "ingest", "--sample").returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "SLACK_", "DISCORD_"))}
    env |= {"PAPERBOY_DATA_DIR": str(tmp_path), "PAPERBOY_OFFLINE": "true"}
    before = f"{(SAMPLE_LAST_DAY - timedelta(days=3)).isoformat()}T08:00:00+00:00"
    at = f"{(SAMPLE_LAST_DAY + timedelta(days=1)).isoformat()}T09:00:00+00:00"
    # No `quit`: the end of input ends the session. Subscribed days before, so the sample's last day matches.
    lines = ["settings trending off", "settings max 3", "subscribe agent", "today 1"]
    chat = subprocess.run(
        [sys.executable, "-m", "paperboy", "chat", "--at", before],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert chat.returncode == 0, chat.stderr
    assert "> " not in chat.stdout and "Type `/papers help`" not in chat.stdout, "no prompts when piped"
    assert "Subscribed to `agent`" in chat.stdout
    preview = paperboy(tmp_path, "digest", "preview", "--channel", "console:local:console", "--at", at, "--json")
    assert preview.returncode == 0, preview.stderr
    body = json.loads(preview.stdout)
    assert body["channel"] == "console:local:console" and body["outcome"] == "preview"
    assert body["day"] == (SAMPLE_LAST_DAY + timedelta(days=1)).isoformat()
    assert body["entries"] and all(e["reason"] == "topic" and e["matched"] for e in body["entries"])
    assert all({"id", "reason", "matched", "learned"} <= e.keys() for e in body["entries"])
    run = paperboy(tmp_path, "digest", "run", "--channel", "console:local:console", "--at", at, "--json")
    assert run.returncode == 0, run.stderr
    posted = json.loads(run.stdout)
    assert posted["outcome"] == "sent" and [e["id"] for e in posted["entries"]] == [e["id"] for e in body["entries"]]
    assert "[posted to #console]" in run.stderr


def test_export_writes_the_channels_library_as_bibtex_that_reads_back(data_dir: Path) -> None:
    from tests.golden import read_bibtex

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "SLACK_", "DISCORD_"))}
    env |= {"PAPERBOY_DATA_DIR": str(data_dir), "PAPERBOY_OFFLINE": "true"}
    listed = json.loads(paperboy(data_dir, "today", "--limit", "2", "--json").stdout)
    ids = [p["id"] for p in listed]
    typed = "".join(f"/papers save {i}\n" for i in ids)
    chat = subprocess.run(
        [sys.executable, "-m", "paperboy", "chat"],
        input=typed + "quit\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=data_dir,
        timeout=120,
    )
    assert chat.returncode == 0, chat.stderr
    done = paperboy(data_dir, "export", "--channel", "console:local:console", "--format", "bibtex")
    assert done.returncode == 0, done.stderr
    assert "exported 2 papers" in done.stderr
    assert sorted(e["eprint"] for e in read_bibtex(done.stdout)) == sorted(ids)
    csl = paperboy(data_dir, "export", "--channel", "console:local:console", "--format", "csljson")
    assert sorted(i["number"] for i in json.loads(csl.stdout)) == sorted(ids)
    unknown = paperboy(data_dir, "export", "--channel", "console:local:nowhere", "--format", "ris")
    assert unknown.returncode == 2 and "no channel" in unknown.stderr and not unknown.stdout
    bad = paperboy(data_dir, "export", "--channel", "console:local:console", "--format", "bibtex", '"open')
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and not bad.stdout


def test_demo_posts_the_channel_digest_and_the_operators_direct_message(tmp_path: Path) -> None:
    done = paperboy(tmp_path, "demo", env={"PAPERBOY_DATA_DIR": str(tmp_path / "demo")})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "digest for console:local:console: sent" in done.stdout
    assert "digest for console:local:@operator: sent" in done.stdout
    dm = done.stdout.split("[direct message to operator]", 1)[1]
    assert dm.lstrip().startswith("== Your follows ·") and "matched:" in dm

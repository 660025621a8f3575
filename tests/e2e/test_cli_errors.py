"""Every way `paperboy` can fail, as a real process: one line saying what to fix, the right exit code, no traceback.

Exit 2: the operator's argument or setting is wrong. Exit 1: the outside world failed (a source, the
database, a token the platform rejects).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.discord import FakeDiscord

TIMEOUT = 120


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def paperboy(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "SLACK_", "DISCORD_", "HF_"))}
    clean |= {"PAPERBOY_DATA_DIR": str(tmp_path), "PAPERBOY_OFFLINE": "true", **(env or {})}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "paperboy",
        *args,
        env=clean,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def one_clean_line(stderr: str) -> str:
    assert "Traceback" not in stderr and 'File "' not in stderr, stderr
    # Log records (timestamped, from the libraries too) may come before; the answer is one line of its own.
    lines = [line for line in stderr.splitlines() if line.startswith("paperboy: ")]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("--log-level", "bogus", "today"), {}, "'bogus' is not a log level (DEBUG, INFO"),
        (("today",), {"PAPERBOY_LOG_LEVEL": "bogus"}, "PAPERBOY_LOG_LEVEL: Value error, must be one of DEBUG"),
        (("today",), {"PAPERBOY_DIGEST__TIME": "25:00"}, "PAPERBOY_DIGEST__TIME"),
        (
            ("today",),
            {"DISCORD_TOKEN_FILE": "/nonexistent/token"},
            "DISCORD_TOKEN_FILE: cannot read /nonexistent/token",
        ),
        (("today",), {"DISCORD_TOKEN": "x", "DISCORD_TOKEN_FILE": "/dev/null"}, "DISCORD_TOKEN and DISCORD_TOKEN_FILE"),
        (("today", "--limit", "ten"), {}, "'ten' is not a number"),
        (("digest", "run", "--channel", "slack:T1:C1", "--at", "2025-11-29T09:00"), {}, "--at needs a timezone"),
        (("nonsense",), {}, "invalid choice: 'nonsense'"),
    ],
)
async def test_bad_arguments_and_settings_exit_2_with_one_line(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    code, out, err = await paperboy(tmp_path, *args, env=env)
    assert code == 2, err
    assert expected in one_clean_line(err)
    assert out == ""


async def test_an_unreachable_database_exits_1(tmp_path: Path) -> None:
    url = f"postgresql://paperboy:secret-pw@127.0.0.1:{closed_port()}/paperboy"
    code, _, err = await paperboy(tmp_path, "today", env={"DATABASE_URL": url})
    assert code == 1
    line = one_clean_line(err)
    assert "the database is unreachable" in line and "check DATABASE_URL" in line
    assert "secret-pw" not in err


async def test_a_source_that_is_down_exits_1(tmp_path: Path) -> None:
    env = {"PAPERBOY_OFFLINE": "false", "HF_ENDPOINT": f"http://127.0.0.1:{closed_port()}"}
    code, _, err = await paperboy(tmp_path, "ingest", "--date", "2025-11-27", env=env)
    assert code == 1
    assert "ingest failed" in one_clean_line(err)


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


async def test_a_rejected_discord_token_exits_1_and_says_which_setting(tmp_path: Path, discord: FakeDiscord) -> None:
    discord.knobs.refuse_login = True
    env = {
        "DISCORD_TOKEN": "fake-token-SECRET",
        "PAPERBOY_DISCORD__API_BASE": discord.api_base,
        "PAPERBOY_DISCORD__GATEWAY_URL": discord.gateway_url,
    }
    code, _, err = await paperboy(tmp_path, "discord", "sync", env=env)
    assert code == 1
    assert one_clean_line(err) == "paperboy: Discord rejected the token (401): check DISCORD_TOKEN"
    assert "fake-token-SECRET" not in err


async def test_a_token_read_from_a_secret_file_reaches_discord(tmp_path: Path, discord: FakeDiscord) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "discord_token").write_text("fake-token-from-file\n")
    discord.knobs.refuse_login = True
    env = {
        "PAPERBOY_SECRETS_DIR": str(secrets),
        "PAPERBOY_DISCORD__API_BASE": discord.api_base,
        "PAPERBOY_DISCORD__GATEWAY_URL": discord.gateway_url,
    }
    code, _, err = await paperboy(tmp_path, "discord", "sync", env=env)
    # Without the file there would be no token at all ("set PAPERBOY_DISCORD__TOKEN first", exit 2).
    assert code == 1 and "Discord rejected the token" in err
    assert ("GET", "/api/v10/users/@me") in discord.requests


async def test_db_upgrade_says_which_revisions_it_applied(tmp_path: Path) -> None:
    code, out, err = await paperboy(tmp_path, "db", "upgrade")
    assert code == 0, err
    assert out.startswith("applied ") and "0001, 0002_" in out
    head = out.rsplit("now at ", 1)[1].strip()
    code, out, err = await paperboy(tmp_path, "db", "upgrade")
    assert code == 0, err
    assert out.strip() == f"already at {head}: nothing to apply"

"""The command line against bad input and secrets: `db new-key`, `db rotate-key`, the start-up error of a
wrong key, numbers and channels that are not what they say. Real processes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.slack.installations import SealedInstallationStore, TokenTables
from bot.crypto import SecretBox, generate_key
from tests.e2e.test_cli import paperboy

OAUTH = {
    "PAPERBOY_SLACK__CLIENT_ID": "111.222",
    "PAPERBOY_SLACK__CLIENT_SECRET": "client-secret",
    "PAPERBOY_SLACK__SIGNING_SECRET": "signing-secret",
    "PAPERBOY_SLACK__API_URL": "http://127.0.0.1:9/api/",
    "PAPERBOY_HTTP__PORT": "0",
}


def test_new_key_prints_a_key(tmp_path: Path) -> None:
    done = paperboy(tmp_path, "db", "new-key")
    assert done.returncode == 0, done.stderr
    SecretBox.from_setting(done.stdout.strip())  # a valid key


def install(tmp_path: Path, key: str, token: str) -> None:
    async def save() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'paperboy.db'}")
        try:
            tables = TokenTables(client_id="111.222", engine=engine)
            await tables.create_tables()  # type: ignore[no-untyped-call]
            store = SealedInstallationStore(tables, SecretBox.from_setting(key))
            await store.async_save(
                Installation(app_id="A1", team_id="TA", bot_token=token, bot_id="B1", bot_user_id="UB", user_id="U1")
            )
        finally:
            await engine.dispose()

    asyncio.run(save())


def bot_token_column(tmp_path: Path) -> str:
    with sqlite3.connect(tmp_path / "paperboy.db") as conn:
        (value,) = conn.execute("SELECT bot_token FROM slack_bots").fetchone()
    return str(value)


def test_rotate_key_seals_everything_again_with_the_new_key(tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    install(tmp_path, old, "xoxb-secret-token")
    before = bot_token_column(tmp_path)
    done = paperboy(tmp_path, "db", "rotate-key", env={"PAPERBOY_SECRET_KEY": f"{new},{old}"})
    assert done.returncode == 0, done.stderr
    assert "sealed 2 of 2 stored secret(s)" in done.stdout
    after = bot_token_column(tmp_path)
    assert after != before and "xoxb-secret-token" not in after
    assert SecretBox.from_setting(new).open(after) == "xoxb-secret-token"
    again = paperboy(tmp_path, "db", "rotate-key", env={"PAPERBOY_SECRET_KEY": new})
    assert again.returncode == 0 and "sealed 0 of 2" in again.stdout


def test_rotate_key_needs_the_key_and_a_wrong_one_changes_nothing(tmp_path: Path) -> None:
    key = generate_key()
    install(tmp_path, key, "xoxb-secret-token")
    before = bot_token_column(tmp_path)
    missing = paperboy(tmp_path, "db", "rotate-key")
    assert missing.returncode == 2 and "set PAPERBOY_SECRET_KEY first" in missing.stderr
    wrong = paperboy(tmp_path, "db", "rotate-key", env={"PAPERBOY_SECRET_KEY": generate_key()})
    assert wrong.returncode == 2 and "cannot open a secret stored in the database" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    assert bot_token_column(tmp_path) == before


def test_run_refuses_to_start_without_the_key_or_with_a_wrong_one(tmp_path: Path) -> None:
    missing = paperboy(tmp_path, "run", env=OAUTH)
    assert missing.returncode == 2 and "PAPERBOY_SECRET_KEY is needed for Slack OAuth" in missing.stderr
    install(tmp_path, generate_key(), "xoxb-secret-token")
    wrong = paperboy(tmp_path, "run", env={**OAUTH, "PAPERBOY_SECRET_KEY": generate_key()})
    assert wrong.returncode == 2, wrong.stderr
    assert "cannot open a secret stored in the database" in wrong.stderr and "Traceback" not in wrong.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("search", "moe", "--limit", "٣"),
        ("today", "--limit", "1_0"),
        ("search", "moe", "--limit", "9" * 40),
        ("digest", "preview", "--channel", "slack:T1:" + "C" * 300),
        ("digest", "preview", "--channel", "slack:T1:C\x01"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = paperboy(tmp_path, *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.strip() and "Traceback" not in done.stderr

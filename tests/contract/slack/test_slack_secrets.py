"""Workspace tokens at rest: sealed in the database, opened only in memory; key problems stop the start.

The installs go through the real OAuth flow against the fake Slack; then the raw tables are read with
sqlite3, as someone holding a copy of the database would.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.slack.installations import seal_stored
from bot.crypto import SecretBox, SecretKeyError, generate_key
from bot.types import ChannelRef, Platform, TextReply
from tests.contract.slack.test_slack_oauth import install, start_oauth
from tests.fakes.slack import SECRET_KEY, FakeSlack, ServeFactory

TOKENS = ("xoxb-ta-token", "xoxb-tb-token")


def every_value(path: Path) -> list[str]:
    """Every value of every column of every table, as text."""
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [str(v) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"') for v in row]


async def test_the_raw_tables_hold_no_token(fake: FakeSlack, serve_http: ServeFactory, tmp_path: Path) -> None:
    served = await start_oauth(serve_http, tmp_path, [])
    await install(served, fake, "code-a", "TA", TOKENS[0])
    await install(served, fake, "code-b", "TB", TOKENS[1])
    values = every_value(tmp_path / "paperboy.db")
    assert any(v.startswith("fernet:") for v in values), "the tokens are there, sealed"
    leaked = [v for v in values for token in TOKENS if token in v or token.removeprefix("xoxb-") in v]
    assert not leaked
    # ...and the adapter opens them to post.
    await served.adapter.send(ChannelRef(Platform.SLACK, "TB", "C1"), TextReply("hi"))
    assert fake.posts[-1].token == TOKENS[1]


async def _plain_install(url: str, team: str, token: str) -> None:
    engine = create_async_engine(url)
    try:
        store = AsyncSQLAlchemyInstallationStore(client_id="111.222", engine=engine)
        await store.create_tables()  # type: ignore[no-untyped-call]
        installation = Installation(
            app_id="A1", team_id=team, bot_token=token, bot_id="B1", bot_user_id="UBOT", user_id="U1"
        )
        await store.async_save(installation)
    finally:
        await engine.dispose()


async def test_tokens_stored_before_encryption_are_sealed_at_start(
    fake: FakeSlack, serve_http: ServeFactory, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'paperboy.db'}"
    await _plain_install(url, "TA", TOKENS[0])
    fake.add_workspace("TA", TOKENS[0])
    assert any(TOKENS[0] in v for v in every_value(tmp_path / "paperboy.db"))
    served = await start_oauth(serve_http, tmp_path, [])
    assert not any(TOKENS[0] in v for v in every_value(tmp_path / "paperboy.db"))
    await served.adapter.send(ChannelRef(Platform.SLACK, "TA", "C1"), TextReply("hi"))
    assert fake.posts[-1].token == TOKENS[0]


async def test_a_wrong_key_stops_the_start_and_changes_nothing(
    fake: FakeSlack, serve_http: ServeFactory, tmp_path: Path
) -> None:
    served = await start_oauth(serve_http, tmp_path, [])
    await install(served, fake, "code-a", "TA", TOKENS[0])
    before = every_value(tmp_path / "paperboy.db")
    with pytest.raises(SecretKeyError, match="cannot open a secret stored in the database") as raised:
        await start_oauth(serve_http, tmp_path, [], secrets=SecretBox.from_setting(generate_key()))
    assert SECRET_KEY not in str(raised.value)
    assert every_value(tmp_path / "paperboy.db") == before


async def test_rotation_seals_everything_with_the_new_key(
    fake: FakeSlack, serve_http: ServeFactory, tmp_path: Path
) -> None:
    served = await start_oauth(serve_http, tmp_path, [])
    await install(served, fake, "code-a", "TA", TOKENS[0])
    new = generate_key()
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'paperboy.db'}")
    try:
        done = await seal_stored(engine, SecretBox.from_setting(f"{new},{SECRET_KEY}"), rotate=True)
        assert done.checked == 2 and done.sealed == 2  # the installation's and the bot's token
        again = await seal_stored(engine, SecretBox.from_setting(new), rotate=True)
        assert (again.checked, again.sealed) == (2, 0), "the new key alone opens everything"
        with pytest.raises(SecretKeyError):
            await seal_stored(engine, SecretBox.from_setting(SECRET_KEY))
    finally:
        await engine.dispose()

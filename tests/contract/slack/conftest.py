"""Fixtures for the Slack contract tests: the loopback fake Slack, a small fake core, served adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from adapters.slack.adapter import SlackAdapter
from bot.clock import FixedClock
from bot.config import SlackSettings
from bot.crypto import SecretBox
from tests.fakes.slack import NOW, SECRET, SECRET_KEY, FakeCore, FakeSlack, Served, ServeFactory, serve_app


async def _healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.stop()


@pytest.fixture
def core() -> FakeCore:
    return FakeCore()


@pytest.fixture
async def serve_http(fake: FakeSlack, core: FakeCore) -> AsyncIterator[ServeFactory]:
    """Start a SlackAdapter in HTTP mode on its own aiohttp app (127.0.0.1, port 0)."""
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def factory(**overrides: Any) -> Served:
        db_url = overrides.pop("installation_db_url", None)
        removed = overrides.pop("on_workspace_removed", None)
        secrets = overrides.pop("secrets", SecretBox.from_setting(SECRET_KEY))
        fields: dict[str, Any] = {
            "bot_token": SecretStr("xoxb-t1-token"),
            "signing_secret": SecretStr(SECRET),
            "api_url": fake.api_url,
        }
        fields.update(overrides)
        settings = SlackSettings(**fields)
        app = web.Application()
        app.router.add_get("/healthz", _healthz)
        adapter = SlackAdapter(
            settings,
            web_app=app,
            clock=FixedClock(NOW),
            installation_db_url=db_url,
            on_workspace_removed=removed,
            min_post_interval=0.05,
            secrets=secrets,
        )
        await adapter.start(core)
        runner, url = await serve_app(app)
        session = aiohttp.ClientSession()
        cleanups.extend([runner.cleanup, adapter.stop, session.close])
        return Served(adapter, url, session, fake)

    yield factory
    for cleanup in reversed(cleanups):
        await cleanup()

"""What the loopback fakes and the tests around them share.

- `serve`: an aiohttp app on 127.0.0.1 with port 0, and its clean stop;
- `wait_for`: a wait bounded in time and count;
- `paper`: test papers built from Daily Papers API records by the bot's own record parser, so they
  have exactly the normalisation real ones have;
- `ScriptedCore`: a stand-in for the engine (the `CommandPort` an adapter serves) that answers from a
  script, records what reached it, and offers the real command specs, so adapters build their native
  commands from the same declarations production uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.features import command_specs
from bot.ports import Suggestion
from bot.sources.records import parse_daily_paper
from bot.types import CommandInvocation, CommandSpec, Message, Paper


@dataclass
class Served:
    runner: web.AppRunner
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def serve(app: web.Application) -> Served:
    """Serve `app` on 127.0.0.1 at a free port (port 0)."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
    return Served(runner, port)


async def wait_for(predicate: Callable[[], bool], within: float = 5.0, *, what: str = "a condition") -> None:
    """Poll `predicate` every 10 ms for at most `within` seconds (bounded in count and time)."""
    for _ in range(int(within / 0.01) + 1):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out after {within}s waiting for {what}")


def paper_record(paper_id: str, **fields: Any) -> dict[str, Any]:
    """A `GET /api/daily_papers` record; `fields` override the inner paper's (API spelling: githubRepo...)."""
    inner: dict[str, Any] = {
        "id": paper_id,
        "title": f"Paper {paper_id}",
        "summary": "An abstract.",
        "authors": [{"name": n, "hidden": False} for n in ("Ada Lovelace", "Alan Turing")],
        "publishedAt": "2026-02-27T17:00:00.000Z",
        "upvotes": 0,
    }
    outer: dict[str, Any] = {}
    for key, value in fields.items():
        if key in ("numComments", "thumbnail"):
            outer[key] = value
        elif key == "authors":
            inner[key] = [{"name": n, "hidden": False} for n in value]
        else:
            inner[key] = value
    return {"paper": inner, "title": inner["title"], "summary": inner["summary"], **outer}


def paper(paper_id: str, **fields: Any) -> Paper:
    """A test paper, parsed from an API record by `bot.sources.records.parse_daily_paper`."""
    return parse_daily_paper(paper_record(paper_id, **fields))


NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

Answer = Callable[[CommandInvocation], Awaitable[Sequence[Message]]]


def words(inv: CommandInvocation) -> list[str]:
    """The command and its values, however they arrived (typed text, a pressed action, Discord options)."""
    if inv.command is None:
        return inv.text.split()
    return [inv.command, *inv.args, *(str(value) for _, value in inv.options)]


@dataclass
class ScriptedCore:
    """A `CommandPort` for adapter tests: answers with `answer`, records every invocation."""

    answer: Answer
    specs_served: Sequence[CommandSpec] = field(default_factory=command_specs)
    suggestions: list[Suggestion] = field(default_factory=list)
    invocations: list[CommandInvocation] = field(default_factory=list)
    suggested: list[tuple[CommandInvocation, str, str]] = field(default_factory=list)

    def specs(self) -> Sequence[CommandSpec]:
        return self.specs_served

    async def handle(self, invocation: CommandInvocation) -> Sequence[Message]:
        self.invocations.append(invocation)
        return await self.answer(invocation)

    async def suggest(self, invocation: CommandInvocation, param: str, current: str) -> Sequence[Suggestion]:
        self.suggested.append((invocation, param, current))
        return [s for s in self.suggestions if current.casefold() in s.label.casefold()]

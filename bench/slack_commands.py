"""CPU per `/papers today` through Paperboy's Slack HTTP stack vs a bare Bolt app answering static text.

    .venv/bin/python -m bench.slack_commands [-n 300]

Each server runs in its own process (127.0.0.1, port 0) so that its CPU time (time.process_time, read by
the server itself before and after the run) excludes the load generator and the fake Slack. Paperboy's
side, twice: the adapter alone (signature check, Bolt dispatch, a static on_command returning a
10-paper PaperList, Block Kit rendering, the reply in the ack when ready within the ack budget, else POSTed
to the response_url served by the fake in this parent process), and the full stack (the same, with the real
engine answering `today` from a SQLite database holding the bundled sample). The reference: the same signed
request, `await ack("static text")`. Each request's reply counts whichever way it came. Target (issue 16):
ratio <= 1.3 for the full stack (DESIGN §12 had 1.5).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

SECRET = "bench-signing-secret"


def _papers() -> Sequence[object]:
    from bot.types import ListedPaper, Paper

    return tuple(
        ListedPaper(
            Paper(
                id=f"2411.{10000 + i}",
                title=f"Scaling mixture-of-experts language models, part {i}",
                abstract="We study sparse expert models at scale. " * 30,
                authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
                upvotes=200 - i,
                comments=i,
                ai_summary="A short AI summary of the paper that says what it does and why it matters.",
                github_repo="https://github.com/example/repo",
                project_page="https://example.org/project",
            )
        )
        for i in range(10)
    )


async def _serve(kind: str, api_url: str) -> None:
    from pydantic import SecretStr

    app = web.Application()
    adapter: Any = None  # Paperboy's SlackAdapter, stopped at the end (it owns an aiohttp session)
    paperboy: Any = None  # the whole application ("full"), which stops its adapter itself
    if kind == "full":
        import tempfile
        from pathlib import Path

        from bot.clock import SystemClock
        from bot.config import Settings, SlackSettings
        from bot.ingest import seed_sample_if_empty
        from paperboy.app import Paperboy, open_database
        from paperboy.platforms import platform_adapters

        data = Path(tempfile.mkdtemp(prefix="paperboy-bench-"))
        token, secret = SecretStr("xoxb-t1-token"), SecretStr(SECRET)
        slack = SlackSettings(bot_token=token, signing_secret=secret, api_url=api_url)
        settings = Settings(data_dir=data, offline=True, slack=slack)
        # Built as `paperboy run` builds it (paperboy.platforms): the replay check goes to the database.
        db = await open_database(settings)
        paperboy = Paperboy(settings, database=db, chat=platform_adapters(settings, SystemClock(), db, app))
        await paperboy.start()
        await seed_sample_if_empty(paperboy.db, paperboy.clock)
    elif kind == "paperboy":
        from adapters.slack.adapter import SlackAdapter
        from bot.clock import SystemClock
        from bot.config import SlackSettings
        from bot.types import CommandInvocation, Message, PaperList
        from tests.fakes.common import ScriptedCore

        papers = _papers()

        async def on_command(inv: CommandInvocation) -> Sequence[Message]:
            return [PaperList("Top papers of Thu 27 Nov", papers, note="Daily Papers of Thu 27 Nov")]  # type: ignore[arg-type]

        token, secret = SecretStr("xoxb-t1-token"), SecretStr(SECRET)
        settings = SlackSettings(bot_token=token, signing_secret=secret, api_url=api_url)
        adapter = SlackAdapter(settings, web_app=app, clock=SystemClock())
        await adapter.start(ScriptedCore(on_command))
    else:
        from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
        from slack_bolt.app.async_app import AsyncApp
        from slack_sdk.web.async_client import AsyncWebClient

        bolt = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token="xoxb-t1-token", base_url=api_url))

        @bolt.command("/papers")
        async def _papers_cmd(ack: object) -> None:
            await ack("Top papers of Thu 27 Nov: ...")  # type: ignore[operator]

        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

        app.router.add_post("/slack/events", events)

    marks: dict[str, float] = {}

    profile_to = os.environ.get("BENCH_PROFILE")  # a path: write a cProfile of the measured run there
    profiler = cProfile.Profile(time.process_time) if profile_to else None  # CPU, as measured

    async def cpu_start(_: web.Request) -> web.Response:
        marks["start"] = time.process_time()
        if profiler is not None:
            profiler.enable()
        return web.Response(text="ok")

    async def cpu_stop(_: web.Request) -> web.Response:
        spent = time.process_time() - marks["start"]
        if profiler is not None and profile_to:
            profiler.disable()
            profiler.dump_stats(f"{profile_to}.{kind}")
        return web.Response(text=str(spent))

    app.router.add_post("/bench/start", cpu_start)
    app.router.add_post("/bench/stop", cpu_stop)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # until the parent closes stdin
    if paperboy is not None:
        await paperboy.stop()
    elif adapter is not None:
        await adapter.stop()
    await runner.cleanup()


async def _run_one(kind: str, n: int, fake: object) -> float:
    from tests.fakes.slack import FakeSlack, signed_headers, wait_for

    assert isinstance(fake, FakeSlack)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.slack_commands",
        "--serve",
        kind,
        "--api-url",
        fake.api_url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    port = int((await asyncio.wait_for(proc.stdout.readline(), timeout=30)).decode())
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:

            async def command(i: int) -> None:
                body = urlencode(
                    {
                        "team_id": "T1",
                        "channel_id": "C1",
                        "channel_name": "papers",
                        "user_id": "U1",
                        "user_name": "ada",
                        "command": "/papers",
                        "text": "today",
                        "response_url": fake.response_url(f"{kind}-{i}"),
                        "trigger_id": "1.2.3",
                    }
                )
                headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(SECRET, body)}
                async with session.post(f"{base}/slack/events", data=body, headers=headers) as resp:
                    assert resp.status == 200, resp.status
                    fake.take_ack(body, await resp.read())  # a reply in the ack counts as delivered

            for i in range(20):  # warm-up: imports, auth.test, caches
                await command(-1 - i)
            before = len(fake.responses)
            async with session.post(f"{base}/bench/start") as resp:
                await resp.read()
            for i in range(n):
                await command(i)
            if kind != "bare":
                await wait_for(lambda: len(fake.responses) - before >= n, within=60, what="all replies")
            async with session.post(f"{base}/bench/stop") as resp:
                return float(await resp.text())
    finally:
        proc.stdin.close()
        await asyncio.wait_for(proc.wait(), timeout=30)


async def _main(n: int) -> None:
    from tests.fakes.slack import FakeSlack

    fake = await FakeSlack().start()
    try:
        bare = await _run_one("bare", n, fake)
        paperboy = await _run_one("paperboy", n, fake)
        full = await _run_one("full", n, fake)
    finally:
        await fake.stop()
    print(f"{n} signed /papers today requests each, CPU time in the server process ({datetime.now(UTC):%F %T} UTC)")
    print(f"  bare Bolt (static ack text):   {bare * 1000 / n:7.3f} ms CPU/command")
    print(f"  Paperboy Slack adapter:        {paperboy * 1000 / n:7.3f} ms CPU/command")
    print(f"  Paperboy, full stack:          {full * 1000 / n:7.3f} ms CPU/command")
    for label, value in (("adapter", paperboy), ("full stack", full)):
        ratio = value / bare if bare else float("inf")
        print(f"  ratio, {label}: {ratio:.2f}  (target <= 1.3: {'met' if ratio <= 1.3 else 'NOT met'})")
    print(f"  replies answered in the ack: {len(fake.ack_answers):,} of {len(fake.responses):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--serve", choices=("paperboy", "bare", "full"))
    parser.add_argument("--api-url")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve, args.api_url))
    else:
        asyncio.run(_main(args.n))


if __name__ == "__main__":
    main()

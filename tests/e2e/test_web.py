"""/healthz, /readyz and /metrics as an operator's probes and Prometheus see them."""

from __future__ import annotations

import aiohttp

from paperboy.app import serve_web
from tests.e2e.conftest import Harness


async def test_health_readiness_and_metrics(harness: Harness, unused_tcp_port: int) -> None:
    runner = await serve_web(harness.app.web_app, "127.0.0.1", unused_tcp_port)
    base = f"http://127.0.0.1:{unused_tcp_port}"
    try:
        await harness.say("today")
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/healthz") as resp:
                assert resp.status == 200
            async with session.get(f"{base}/readyz") as resp:
                body = await resp.json()
                assert resp.status == 200 and body["ready"] is True
                assert body["checks"] == {"database": True, "adapter:console": True}
            harness.chat.link_up = False
            async with session.get(f"{base}/readyz") as resp:
                body = await resp.json()
                assert resp.status == 503 and body["checks"]["adapter:console"] is False
            async with session.get(f"{base}/metrics") as resp:
                text = await resp.text()
                assert resp.status == 200
                assert 'paperboy_commands_total{command="today",outcome="ok"}' in text
                assert "paperboy_scheduler_lag_seconds" in text
    finally:
        await runner.cleanup()

"""/healthz, /readyz and /metrics as an operator's probes and Prometheus see them."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot import __version__
from bot.ingest import ingest_from
from bot.types import Paper
from paperboy.app import serve_web
from tests.e2e.conftest import Harness


async def no_papers() -> list[Paper]:
    return []


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
            done_at = datetime(2025, 11, 29, 6, 0, tzinfo=UTC)
            await ingest_from("hf", no_papers, harness.app.db.papers, harness.app.db.sources, now=done_at)
            async with session.get(f"{base}/metrics") as resp:
                text = await resp.text()
                assert resp.status == 200
                assert 'paperboy_commands_total{command="today",outcome="ok"}' in text
                assert f'paperboy_build_info{{version="{__version__}"}} 1.0' in text
                freshness = {
                    s.labels["source"]: s.value
                    for family in text_string_to_metric_families(text)
                    if family.name == "paperboy_source_last_success_timestamp_seconds"
                    for s in family.samples
                }
                assert freshness["hf"] == done_at.timestamp()
                # A histogram (buckets, sum, count), not a last-value gauge.
                assert 'paperboy_scheduler_lag_seconds_bucket{le="60.0"}' in text
                assert "paperboy_scheduler_lag_seconds_count" in text
            # prometheus_client's own handler: it speaks OpenMetrics when asked, and filters by name.
            headers = {"Accept": "application/openmetrics-text; version=1.0.0"}
            async with session.get(f"{base}/metrics?name[]=paperboy_build_info", headers=headers) as resp:
                text = await resp.text()
                assert resp.headers["Content-Type"].startswith("application/openmetrics-text")
                assert "paperboy_build_info" in text and "paperboy_commands_total" not in text
                assert text.rstrip().endswith("# EOF")
    finally:
        await runner.cleanup()

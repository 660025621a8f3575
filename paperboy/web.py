"""The HTTP surface every deployment has: /healthz, /readyz, /metrics. Adapters mount their routes on it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

Readiness = Callable[[], Awaitable[dict[str, bool]]]


def make_web_app(ready: Readiness) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        checks = await ready()
        ok = all(checks.values())
        return web.Response(
            status=200 if ok else 503,
            text=json.dumps({"ready": ok, "checks": checks}),
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    # prometheus_client's own handler: content negotiation (OpenMetrics, gzip) and the `name[]` filter.
    app.router.add_get("/metrics", make_aiohttp_handler())
    return app

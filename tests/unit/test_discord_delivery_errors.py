"""How Discord failures map onto the delivery loop's retry / pause decision, and the nonce."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import pytest

from adapters.discord.adapter import _SlidingWindow, delivery_error, delivery_nonce
from bot.errors import PermanentDeliveryError, RetryableDeliveryError


def _response(status: int) -> Any:
    return SimpleNamespace(status=status, reason="x", headers={})


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (discord.NotFound(_response(404), {"code": 10003, "message": "Unknown Channel"}), "Unknown Channel, 10003"),
        (discord.NotFound(_response(404), {"code": 10004, "message": "Unknown Guild"}), "Unknown Guild, 10004"),
        (discord.Forbidden(_response(403), {"code": 50001, "message": "Missing Access"}), "Missing Access, 50001"),
        (
            discord.Forbidden(_response(403), {"code": 50013, "message": "Missing Permissions"}),
            "Discord says Paperboy lacks permission to post here (Missing Permissions, 50013)",
        ),
        (discord.HTTPException(_response(401), {"code": 0, "message": "401: Unauthorized"}), "token"),
    ],
)
def test_permanent(exc: Exception, reason: str) -> None:
    mapped = delivery_error(exc)
    assert isinstance(mapped, PermanentDeliveryError)
    assert reason in mapped.reason


@pytest.mark.parametrize(
    "exc",
    [
        discord.DiscordServerError(_response(503), {"code": 0, "message": "unavailable"}),
        discord.HTTPException(_response(502), "bad gateway"),
        discord.HTTPException(_response(429), "cloudflare"),
        TimeoutError(),
        aiohttp.ClientConnectionError("reset"),
        ConnectionResetError(),
    ],
)
def test_retryable(exc: Exception) -> None:
    assert isinstance(delivery_error(exc), RetryableDeliveryError)


def test_long_rate_limit_carries_retry_after() -> None:
    mapped = delivery_error(discord.RateLimited(120.0))
    assert isinstance(mapped, RetryableDeliveryError) and mapped.retry_after == 120.0


def test_unrelated_errors_are_not_delivery_errors() -> None:
    assert delivery_error(ValueError("bug")) is None


def test_nonce_is_short_and_stable() -> None:
    long_id = "digest:discord:222222222222222222:333333333333333333:2026-03-02"
    nonce = delivery_nonce(long_id)
    assert len(nonce) <= 25 and nonce == delivery_nonce(long_id)
    assert nonce != delivery_nonce(long_id.replace("03-02", "03-03"))
    assert delivery_nonce("short-id") == "short-id"


async def test_global_limit_never_lets_more_than_50_into_a_second() -> None:
    limiter = _SlidingWindow(50, 1.05)
    loop = asyncio.get_running_loop()
    start = loop.time()
    stamps = []
    for _ in range(120):
        await limiter.acquire()
        stamps.append(loop.time())
    # 50 at once, the next 50 a window later, the last 20 a window after that.
    assert stamps[49] - start < 0.5
    assert stamps[50] - stamps[0] >= 1.05 and stamps[100] - stamps[50] >= 1.05
    assert all(stamps[i + 50] - stamps[i] >= 1.0 for i in range(len(stamps) - 50))

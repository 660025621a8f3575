"""Shared pieces of the Discord adapter's REST side: failures as delivery errors, posts as discord.py kwargs."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord

from bot.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.types import ChannelRef

from . import render as r

logger = logging.getLogger(__name__)

_KNOWN_CODES: dict[int, str] = {
    10003: "Discord says this channel no longer exists (Unknown Channel, 10003)",
    10004: "Discord says Paperboy is no longer in this server (Unknown Guild, 10004)",
    50001: "Discord says Paperboy cannot see this channel (Missing Access, 50001)",
    50013: "Discord says Paperboy lacks permission to post here (Missing Permissions, 50013)",
    50035: "Discord rejected the message as malformed (Invalid Form Body, 50035)",
    40067: (
        "Discord says this forum requires a tag on every post (40067): give it a `trending` tag, or Paperboy "
        "Manage Channels on it so that it adds the tags it uses"
    ),
}


def delivery_error(exc: BaseException) -> PermanentDeliveryError | RetryableDeliveryError | None:
    """Classify a discord.py / aiohttp failure for the delivery loop; None if it is not a delivery failure."""
    if isinstance(exc, discord.RateLimited):
        return RetryableDeliveryError(f"Discord rate limit ({exc.retry_after:.0f}s)", retry_after=exc.retry_after)
    if isinstance(exc, discord.DiscordServerError):
        return RetryableDeliveryError(f"Discord server error ({exc.status})")
    if isinstance(exc, discord.HTTPException):
        if exc.code in _KNOWN_CODES:
            return PermanentDeliveryError(_KNOWN_CODES[exc.code])
        if exc.status == 401:
            return PermanentDeliveryError("Discord rejected Paperboy's bot token (401 Unauthorized)")
        if isinstance(exc, discord.Forbidden):
            return PermanentDeliveryError(f"Discord refused the post (Forbidden, {exc.code})")
        if isinstance(exc, discord.NotFound):
            return PermanentDeliveryError(f"Discord cannot find this channel (Not Found, {exc.code})")
        if exc.status == 429 or exc.status >= 500:
            return RetryableDeliveryError(f"Discord answered {exc.status}")
        return PermanentDeliveryError(f"Discord rejected the post ({exc.status}, code {exc.code})")
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ClientError | OSError | discord.GatewayNotFound):
        return RetryableDeliveryError(f"could not reach Discord ({type(exc).__name__})")
    return None


@contextlib.asynccontextmanager
async def as_delivery_errors(channel: ChannelRef) -> AsyncIterator[None]:
    try:
        yield
    except (PermanentDeliveryError, RetryableDeliveryError):
        raise
    except Exception as exc:
        mapped = delivery_error(exc)
        if mapped is None:
            raise
        logger.warning("discord delivery to %s failed: %s", channel.key, mapped.reason)
        raise mapped from exc


def message_kwargs(post: r.DiscordPost) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if post.content:
        kwargs["content"] = post.content
    if post.files:
        kwargs["files"] = [discord.File(io.BytesIO(data), filename=name) for name, data in post.files]
    if post.embeds:
        # from_dict keeps references to the dicts it is given; rendered embeds are shared, so copy.
        kwargs["embeds"] = [discord.Embed.from_dict(copy.deepcopy(e)) for e in post.embeds]
    if post.components:
        view = discord.ui.View(timeout=None)
        for row, action_row in enumerate(post.components):
            for button in action_row["components"]:
                view.add_item(
                    discord.ui.Button(
                        style=discord.ButtonStyle(button["style"]),
                        label=button["label"],
                        custom_id=button["custom_id"],
                        row=row,
                    )
                )
        # Clicks are handled by on_interaction; a stopped view is not kept in discord.py's view store.
        view.stop()
        kwargs["view"] = view
    return kwargs

"""Which chat platforms this deployment talks to, built from the settings (part of the composition root)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from adapters.base import ChatAdapter
from bot.types import Platform

if TYPE_CHECKING:
    from bot.app import Paperboy


def configured_adapters(app: Paperboy, *, web_app: web.Application | None = None) -> list[ChatAdapter]:
    """Slack and/or Discord, as configured; an empty list when neither is."""
    created: list[ChatAdapter] = []
    settings = app.settings
    if settings.slack.enabled:
        from adapters.slack.adapter import SlackAdapter

        async def workspace_removed(workspace_id: str) -> None:
            await app.db.channels.delete_workspace(Platform.SLACK, workspace_id)

        created.append(
            SlackAdapter(
                settings.slack,
                web_app=web_app,
                clock=app.clock,
                installation_db_url=settings.resolved_database_url,
                on_workspace_removed=workspace_removed,
            )
        )
    if settings.discord.enabled:
        from adapters.discord.adapter import DiscordAdapter

        created.append(DiscordAdapter(settings.discord, clock=app.clock, kv=app.db.kv))
    return created


async def discord_sync(app: Paperboy, guild: int | None) -> int:
    from adapters.discord.adapter import DiscordAdapter

    adapter = DiscordAdapter(app.settings.discord, clock=app.clock, kv=app.db.kv)
    await adapter.start(app.engine.commands.specs(), app.engine.handle)
    try:
        return await adapter.sync(guild)
    finally:
        await adapter.stop()

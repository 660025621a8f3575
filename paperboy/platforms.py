"""Which chat platforms this deployment talks to, built from the settings (part of the composition root)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.clock import Clock
from bot.config import Settings
from bot.ports import ChatAdapter
from bot.types import Platform
from storage import Database

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter


def platform_adapters(settings: Settings, clock: Clock, db: Database, web_app: web.Application) -> list[ChatAdapter]:
    """Slack and/or Discord, as configured (not started); an empty list when neither is.

    Slack's HTTP mode mounts its routes on `web_app` now, before it is served.
    """
    created: list[ChatAdapter] = []
    if settings.slack.enabled:
        from adapters.slack.adapter import SlackAdapter

        async def workspace_removed(workspace_id: str) -> None:
            await db.channels.delete_workspace(Platform.SLACK, workspace_id)

        created.append(
            SlackAdapter(
                settings.slack,
                web_app=web_app,
                clock=clock,
                installation_db_url=settings.resolved_database_url,
                on_workspace_removed=workspace_removed,
                inbound_log=db.inbound,
                secrets=settings.secret_box,
            )
        )
    if settings.discord.enabled:
        created.append(discord_adapter(settings, clock, db))
    return created


def discord_adapter(settings: Settings, clock: Clock, db: Database) -> DiscordAdapter:
    from adapters.discord.adapter import DiscordAdapter

    return DiscordAdapter(settings.discord, clock=clock, kv=db.kv, inbound_log=db.inbound)

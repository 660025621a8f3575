"""The URL that adds Paperboy to a Discord server, with the permissions it needs and no more."""

from __future__ import annotations

from urllib.parse import urlencode

import discord

SCOPES = ("bot", "applications.commands")


def required_permissions() -> discord.Permissions:
    """See channels, post digests with embeds, continue long digests in a thread, find earlier posts."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        embed_links=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        read_message_history=True,
    )


def invite_url(application_id: str) -> str:
    if not application_id.strip().isdigit():
        raise ValueError(f"a Discord application id is a number, got {application_id!r}")
    query = urlencode(
        {
            "client_id": application_id.strip(),
            "scope": " ".join(SCOPES),
            "permissions": str(required_permissions().value),
        }
    )
    return f"https://discord.com/oauth2/authorize?{query}"

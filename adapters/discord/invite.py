"""The URL that adds Paperboy to a Discord server, with the permissions it needs and no more.

Why each (the README's "Discord permissions" says the same to server owners):
- View Channel, Read Message History: see the channel, find its own earlier posts after a crash;
- Send Messages, Embed Links: post digests as embeds; in a forum, Send Messages is what creates a post;
  in an announcement channel it is also all that publishing one's own messages needs (not Manage Messages);
- Create Public Threads, Send Messages in Threads: continue a long digest, and follow-ups, in a thread;
- Manage Channels, only with `--forum-tags`: add the forum tags Paperboy lacks (it never removes one).
  Without it, `status` lists the tags a moderator could add.
"""

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


def forum_tag_permissions() -> discord.Permissions:
    """The opt-in for creating forum tags: Discord puts a forum's tags under Manage Channels."""
    return discord.Permissions(manage_channels=True)


def invite_url(application_id: str, *, forum_tags: bool = False) -> str:
    if not application_id.strip().isdigit():
        raise ValueError(f"a Discord application id is a number, got {application_id!r}")
    query = urlencode(
        {
            "client_id": application_id.strip(),
            "scope": " ".join(SCOPES),
            "permissions": str((required_permissions() | forum_tag_permissions()).value)
            if forum_tags
            else str(required_permissions().value),
        }
    )
    return f"https://discord.com/oauth2/authorize?{query}"

"""The Slack app manifest for `paperboy slack manifest` (paste it at api.slack.com/apps -> Create from manifest)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.types import CommandSpec

# commands: /papers; chat:write(.public): post digests (public channels without an invite);
# app_mentions:read: "@Paperboy today"; channels/groups:history: find an earlier post by its metadata after a
# crash (conversations.history); users:read: the "admins" permission rule (users.info); im:write: DMs;
# im:history: commands typed in the Messages tab (message.im).
# links:read / links:write: `link_shared` for paper links and `chat.unfurl` with their cards;
# files:write: `/papers export` uploads the library as a file (files.uploadV2).
BOT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "chat:write.public",
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "users:read",
    "im:write",
    "im:history",
    "links:read",
    "links:write",
    "files:write",
)
BOT_EVENTS: tuple[str, ...] = (
    "app_mention",
    "app_uninstalled",
    "tokens_revoked",
    "app_home_opened",
    "message.im",
    "link_shared",
)
UNFURL_DOMAINS: tuple[str, ...] = ("arxiv.org", "huggingface.co", "alphaxiv.org")
"""Paper links Slack tells Paperboy about (`link_shared`); subdomains (www., export.) are included."""

USAGE_HINT_COMMANDS = 5
"""The slash command's hint shows the first few subcommands' usage (built from the specs) and `help`."""


def usage_hint(commands: Sequence[CommandSpec]) -> str:
    shown = [c.usage for c in commands[:USAGE_HINT_COMMANDS] if c.name != "help"]
    return " | ".join([*shown, "help"])


def slack_manifest(
    *, socket: bool, request_url: str | None, commands: Sequence[CommandSpec], command: str = "/papers"
) -> dict[str, Any]:
    """An app manifest (the documented JSON structure) for Socket Mode, or HTTP mode at `request_url`.

    `request_url` is the public base URL (`https://paperboy.example.org`) or the full events URL ending in
    `/slack/events`; it is required unless `socket` is true.
    """
    if not command.startswith("/") or len(command) > 32:
        raise ValueError("the command must start with / and be at most 32 characters")
    events_url: str | None = None
    if not socket:
        if not request_url or not request_url.startswith("https://"):
            raise ValueError("HTTP mode needs a public https:// request URL")
        base = request_url.rstrip("/")
        events_url = base if base.endswith("/slack/events") else base + "/slack/events"
    slash: dict[str, Any] = {
        "command": command,
        "description": "Trending ML papers: today, search, subscribe to topics, daily digest",
        "usage_hint": usage_hint(commands),
        "should_escape": False,
    }
    event_subscriptions: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if events_url is not None:
        slash["url"] = events_url
        event_subscriptions["request_url"] = events_url
        interactivity["request_url"] = events_url
    manifest: dict[str, Any] = {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Paperboy",
            "description": "The day's trending machine-learning papers, delivered to your channels.",
            "long_description": (
                "Paperboy posts a daily digest of the most upvoted papers on Hugging Face Daily Papers, plus "
                'the papers that match each channel\'s topics (mixture of experts, author:"Yann LeCun", ...). '
                "Ask for papers any time with /papers today, /papers search <query> or /papers paper <arXiv id>, "
                "and subscribe a channel with /papers subscribe <query>. Every paper is posted once per channel."
            ),
            "background_color": "#1d3557",
        },
        "features": {
            "bot_user": {"display_name": "Paperboy", "always_online": True},
            # The Home tab (a how-to, published on app_home_opened) and the Messages tab, where the same
            # commands can be typed as plain text (`today 3`, `search moe`).
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "slash_commands": [slash],
            "unfurl_domains": list(UNFURL_DOMAINS),
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": event_subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket,
            "token_rotation_enabled": False,
        },
    }
    if events_url is not None:
        manifest["oauth_config"]["redirect_urls"] = [events_url.removesuffix("/slack/events") + "/slack/oauth_redirect"]
    return manifest

"""The app manifest follows Slack's documented manifest structure."""

from __future__ import annotations

import json

import pytest

from adapters.slack.manifest import BOT_EVENTS, BOT_SCOPES, slack_manifest
from bot.features import command_specs

SPECS = command_specs()

TOP_LEVEL = {"_metadata", "display_information", "features", "oauth_config", "settings"}
KNOWN_SCOPES = {
    "commands",
    "chat:write",
    "chat:write.public",
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "users:read",
    "im:write",
    "im:history",
    "channels:read",
    "groups:read",
    "links:read",
    "links:write",
    "files:write",
}


def check_structure(m: dict[str, object]) -> None:
    json.dumps(m)
    assert set(m) <= TOP_LEVEL
    info = m["display_information"]
    assert isinstance(info, dict)
    assert 1 <= len(info["name"]) <= 35
    assert len(info["description"]) <= 140
    assert 174 <= len(info["long_description"]) <= 4000
    assert info["background_color"].startswith("#") and len(info["background_color"]) == 7
    features = m["features"]
    assert isinstance(features, dict)
    assert features["bot_user"]["display_name"] == "Paperboy"
    (cmd,) = features["slash_commands"]
    assert cmd["command"] == "/papers" and len(cmd["description"]) <= 2000
    # The hint is built from the command specs: the first subcommands' usage lines, then help.
    assert cmd["usage_hint"].startswith("today [N] | top week|month [N] | search <query>")
    assert cmd["usage_hint"].endswith(" | help")
    oauth = m["oauth_config"]
    assert isinstance(oauth, dict)
    assert set(oauth["scopes"]["bot"]) <= KNOWN_SCOPES
    assert {"commands", "chat:write", "app_mentions:read", "channels:history", "users:read"} <= set(
        oauth["scopes"]["bot"]
    )
    settings = m["settings"]
    assert isinstance(settings, dict)
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "app_uninstalled",
        "tokens_revoked",
        "app_home_opened",
        "message.im",
        "link_shared",
    }
    # The Home tab (published on app_home_opened) and the Messages tab (commands typed in the DM).
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }
    assert {"im:write", "im:history"} <= set(oauth["scopes"]["bot"]), "message.im needs im:history"
    # Paper links are unfurled: link_shared needs the domains listed and both links scopes.
    assert features["unfurl_domains"] == ["arxiv.org", "huggingface.co", "alphaxiv.org"]
    assert {"links:read", "links:write"} <= set(oauth["scopes"]["bot"])
    assert settings["interactivity"]["is_enabled"] is True


def test_socket_mode_manifest_has_no_request_urls() -> None:
    m = slack_manifest(socket=True, request_url=None, commands=SPECS)
    check_structure(m)
    assert m["settings"]["socket_mode_enabled"] is True
    assert "url" not in m["features"]["slash_commands"][0]
    assert "request_url" not in m["settings"]["event_subscriptions"]
    assert "request_url" not in m["settings"]["interactivity"]


def test_http_manifest_points_everything_at_slack_events() -> None:
    m = slack_manifest(socket=False, request_url="https://paperboy.example.org/", commands=SPECS)
    check_structure(m)
    url = "https://paperboy.example.org/slack/events"
    assert m["settings"]["socket_mode_enabled"] is False
    assert m["features"]["slash_commands"][0]["url"] == url
    assert m["settings"]["event_subscriptions"]["request_url"] == url
    assert m["settings"]["interactivity"]["request_url"] == url
    assert m["oauth_config"]["redirect_urls"] == ["https://paperboy.example.org/slack/oauth_redirect"]


def test_custom_command_and_bad_inputs() -> None:
    manifest = slack_manifest(socket=True, request_url=None, commands=SPECS, command="/arxiv")
    assert manifest["features"]["slash_commands"][0]["command"] == "/arxiv"
    with pytest.raises(ValueError):
        slack_manifest(socket=False, request_url=None, commands=SPECS)
    with pytest.raises(ValueError):
        slack_manifest(socket=False, request_url="http://insecure.example", commands=SPECS)
    with pytest.raises(ValueError):
        slack_manifest(socket=True, request_url=None, commands=SPECS, command="papers")


def test_scopes_and_events_constants_match() -> None:
    m = slack_manifest(socket=True, request_url=None, commands=SPECS)
    assert tuple(m["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
    assert tuple(m["settings"]["event_subscriptions"]["bot_events"]) == BOT_EVENTS

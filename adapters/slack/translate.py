"""Slack payloads -> CommandInvocation. Pure: the caller supplies the permission and the receive time."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import actions as codec
from bot.types import ChannelRef, CommandInvocation, Permission, Platform, UserRef


class UnsupportedPayload(ValueError):
    """A payload Paperboy does not turn into a command (an unknown button, a malformed body)."""


_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s:,]*")
# Slack's team, channel and user ids (T024BE7LD, C0123, U0G9QF9C6, W...): bounded before they reach a table.
_SLACK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _str(value: object) -> str:
    if isinstance(value, list):  # parse_qs-style bodies: {"text": ["..."]}
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


def _ids(what: str, team_id: str, channel_id: str, user_id: str) -> None:
    for name, value in (("team", team_id), ("channel", channel_id), ("user", user_id)):
        if not _SLACK_ID.fullmatch(value):
            raise UnsupportedPayload(f"{what} without a valid {name} id")


_CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")


def _channel_name(name: str) -> str:
    """A Slack channel name worth showing ("" for DMs, legacy private groups and anything odd)."""
    if name in ("directmessage", "privategroup", "mpdm") or not _CHANNEL_NAME.fullmatch(name):
        return ""
    return name


def _is_dm(channel_id: str, channel_name: str = "", channel_type: str = "") -> bool:
    return channel_name == "directmessage" or channel_type == "im" or channel_id.startswith("D")


def workspace_of(body: Mapping[str, Any]) -> str:
    """The team id of a slash-command, event or interaction body."""
    team = body.get("team_id") or body.get("team")
    if isinstance(team, Mapping):
        team = team.get("id")
    if not team:
        user = body.get("user")
        if isinstance(user, Mapping):
            team = user.get("team_id")
    if not team:
        event = body.get("event")
        if isinstance(event, Mapping):
            team = event.get("team")
    return _str(team)


def slash_command(body: Mapping[str, Any], *, permission: Permission, received_at: datetime) -> CommandInvocation:
    """A slash-command form body (as Bolt parses it) -> the invocation the core runs."""
    team_id = _str(body.get("team_id"))
    channel_id = _str(body.get("channel_id"))
    user_id = _str(body.get("user_id"))
    _ids("slash command", team_id, channel_id, user_id)
    return CommandInvocation(
        channel=ChannelRef(Platform.SLACK, team_id, channel_id),
        user=UserRef(user_id, _str(body.get("user_name"))[:80]),
        text=_str(body.get("text")).strip(),
        permission=permission,
        received_at=received_at,
        is_direct_message=_is_dm(channel_id, _str(body.get("channel_name"))),
        channel_name=_channel_name(_str(body.get("channel_name"))),
    )


def app_mention(body: Mapping[str, Any], *, permission: Permission, received_at: datetime) -> CommandInvocation:
    """An `app_mention` Events API body -> invocation; `@Paperboy today 5` runs `today 5`."""
    event = body.get("event")
    if not isinstance(event, Mapping) or event.get("type") != "app_mention":
        raise UnsupportedPayload("not an app_mention event")
    channel_id = _str(event.get("channel"))
    user_id = _str(event.get("user"))
    team_id = workspace_of(body)
    _ids("app_mention", team_id, channel_id, user_id)
    text = _LEADING_MENTION.sub("", _str(event.get("text")), count=1).strip()
    # A mention is typed in a message box: Slack sends `&`, `<`, `>` as entities; the core wants what was typed.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return CommandInvocation(
        channel=ChannelRef(Platform.SLACK, team_id, channel_id),
        user=UserRef(user_id),
        text=text,
        permission=permission,
        received_at=received_at,
        is_direct_message=_is_dm(channel_id, channel_type=_str(event.get("channel_type"))),
    )


def direct_message(body: Mapping[str, Any], *, permission: Permission, received_at: datetime) -> CommandInvocation:
    """A `message.im` event (a person typing in Paperboy's Messages tab) -> invocation; `today 3` runs it.

    Only what a person typed: edits, joins, bot messages (Paperboy's own replies among them) are refused.
    """
    event = body.get("event")
    if not isinstance(event, Mapping) or event.get("type") != "message" or event.get("channel_type") != "im":
        raise UnsupportedPayload("not a direct message")
    if event.get("subtype") is not None or event.get("bot_id") is not None or event.get("bot_profile") is not None:
        raise UnsupportedPayload("not a message a person typed")
    channel_id = _str(event.get("channel"))
    user_id = _str(event.get("user"))
    team_id = workspace_of(body)
    _ids("message.im", team_id, channel_id, user_id)
    text = _str(event.get("text")).strip()
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return CommandInvocation(
        channel=ChannelRef(Platform.SLACK, team_id, channel_id),
        user=UserRef(user_id),
        text=text,
        permission=permission,
        received_at=received_at,
        is_direct_message=True,
    )


def home_opened(body: Mapping[str, Any]) -> tuple[str, str]:
    """An `app_home_opened` event on the Home tab -> (workspace, user) whose Home to publish."""
    event = body.get("event")
    if not isinstance(event, Mapping) or event.get("type") != "app_home_opened" or event.get("tab") != "home":
        raise UnsupportedPayload("not the Home tab opening")
    team_id, user_id = workspace_of(body), _str(event.get("user"))
    _ids("app_home_opened", team_id, _str(event.get("channel")) or "D0", user_id)
    return team_id, user_id


def from_home(body: Mapping[str, Any]) -> bool:
    """Whether a `block_actions` payload comes from a button on the App Home tab.

    Slack sends those with the view (`view.type == "home"`) and a `container` of type `view`, and with
    neither `channel` nor `response_url`.
    """
    view = body.get("view")
    container = body.get("container")
    return (
        isinstance(view, Mapping)
        and view.get("type") == "home"
        and not body.get("channel")
        and (not isinstance(container, Mapping) or container.get("type") in (None, "view"))
    )


def block_action(body: Mapping[str, Any], *, permission: Permission, received_at: datetime) -> CommandInvocation:
    """A `block_actions` payload for one of Paperboy's buttons (or menu options) -> the command it names.

    A button on the Home tab (`from_home`) runs as the person's direct-message command (`ChannelRef.dm`).
    """
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], Mapping):
        raise UnsupportedPayload("block_actions without actions")
    element = actions[0]
    action_id = _str(element.get("action_id"))
    if element.get("type") in ("overflow", "static_select"):
        selected = element.get("selected_option")
        encoded = _str(selected.get("value")) if isinstance(selected, Mapping) else ""
        pressed = codec.decode(encoded)
    else:
        pressed = codec.decode(action_id, _str(element.get("value")))
    if pressed is None:
        raise UnsupportedPayload(f"unknown action {action_id[:60]!r}")
    channel = body.get("channel")
    channel_id = _str(channel.get("id")) if isinstance(channel, Mapping) else ""
    channel_name = _str(channel.get("name")) if isinstance(channel, Mapping) else ""
    if not channel_id:
        container = body.get("container")
        if isinstance(container, Mapping):
            channel_id = _str(container.get("channel_id"))
    user = body.get("user")
    user_id = _str(user.get("id")) if isinstance(user, Mapping) else ""
    user_name = _str(user.get("username") or user.get("name")) if isinstance(user, Mapping) else ""
    team_id = workspace_of(body)
    if not channel_id and from_home(body):
        # A button on the person's Home tab: no channel, no response_url. It acts for the person alone,
        # as a command in their direct messages with Paperboy would.
        _ids("block_actions", team_id, "home", user_id)
        ref = ChannelRef.dm(Platform.SLACK, team_id, user_id)
    else:
        _ids("block_actions", team_id, channel_id, user_id)
        ref = ChannelRef(Platform.SLACK, team_id, channel_id)
    return CommandInvocation(
        channel=ref,
        user=UserRef(user_id, user_name[:80]),
        text=" ".join([pressed.command, *pressed.args]),
        permission=permission,
        received_at=received_at,
        is_direct_message=ref.dm_user is not None or _is_dm(channel_id, channel_name),
        command=pressed.command,
        args=pressed.args,
        channel_name=_channel_name(channel_name),
    )


MAX_SHARED_LINKS = 5
"""The most links of one message that are unfurled (Slack sends at most a few per `link_shared`)."""


@dataclass(frozen=True, slots=True)
class SharedLinks:
    """A `link_shared` event: where the links were posted, and one `share` (or, in the composer, `paper`)
    invocation per link."""

    channel: ChannelRef
    message_ts: str
    unfurl_id: str
    source: str
    shares: tuple[tuple[str, CommandInvocation], ...]
    """(the URL as Slack sent it, the `share` invocation for it)."""


def link_shared(body: Mapping[str, Any], *, permission: Permission, received_at: datetime) -> SharedLinks:
    """A `link_shared` Events API body -> a `share` per link. The core decides which are papers."""
    event = body.get("event")
    if not isinstance(event, Mapping) or event.get("type") != "link_shared":
        raise UnsupportedPayload("not a link_shared event")
    channel_id = _str(event.get("channel"))
    user_id = _str(event.get("user"))
    team_id = workspace_of(body)
    _ids("link_shared", team_id, channel_id, user_id)
    links = event.get("links")
    if not isinstance(links, list):
        raise UnsupportedPayload("link_shared without links")
    channel = ChannelRef(Platform.SLACK, team_id, channel_id)
    source = _str(event.get("source"))
    # A link in a message still being written (Slack's composer preview) is shown, not yet shared: the
    # library gets it when the message is posted (Slack then sends the event again, from the channel).
    command = "paper" if source == "composer" or channel_id == "COMPOSER" else "share"
    shares: list[tuple[str, CommandInvocation]] = []
    for link in links:
        url = _str(link.get("url")) if isinstance(link, Mapping) else ""
        if not url or len(url) > 500 or any(u == url for u, _ in shares):
            continue
        invocation = CommandInvocation(
            channel=channel,
            user=UserRef(user_id),
            text=f"{command} {url}",
            permission=permission,
            received_at=received_at,
            is_direct_message=_is_dm(channel_id, channel_type=_str(event.get("channel_type"))),
            command=command,
            args=(url,),
        )
        shares.append((url, invocation))
        if len(shares) == MAX_SHARED_LINKS:
            break
    return SharedLinks(
        channel=channel,
        message_ts=_str(event.get("message_ts")),
        unfurl_id=_str(event.get("unfurl_id")),
        source=source,
        shares=tuple(shares),
    )

"""Discord interaction payloads -> CommandInvocation. Pure functions over the raw JSON.

A `/papers` subcommand arrives as a structured invocation: the subcommand's name and its typed
options by name (`top` with period=week, n=5), never joined into text, so a value with spaces stays one
value and an option cannot smuggle words into another. The core binds and validates them with the same
spec as typed text. A pressed button's custom id is a `bot.actions` id, read back by `decode`.

Every interaction is read here, not by discord.py's command tree: a payload that does not fit the synced
commands (an unknown subcommand, an option missing or unknown, a malformed option list) becomes an
invocation the core answers with a specific error, or an `UnsupportedPayload` the adapter answers with one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import actions as codec
from bot.types import ChannelRef, CommandInvocation, Permission, Platform, UserRef

MANAGE_CHANNELS = 1 << 4
ADMINISTRATOR = 1 << 3
WHO_CAN_MANAGE = "members with Manage Channels"
DM_WORKSPACE = "@dm"
GROUP_NAME = "papers"

_SUB_COMMAND = 1
_SUB_COMMAND_GROUP = 2
_APPLICATION_COMMAND = 2
_MESSAGE_COMPONENT = 3
_AUTOCOMPLETE = 4
MAX_OPTIONS = 25
"""Discord allows 25 options per command; more is not a payload Discord sends."""
_NAME = re.compile(r"[-_a-z0-9]{1,32}")
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
_MAX_CUSTOM_ID = 100


class UnsupportedPayload(ValueError):
    """An interaction Paperboy cannot read (malformed options, a button that is not one of its own)."""


@dataclass(frozen=True, slots=True)
class InteractionFacts:
    """Who invoked what where: the parts of an interaction that translation needs."""

    guild_id: str | None
    channel_id: str
    user_id: str
    user_name: str
    permissions: int | None
    """The member's resolved permissions in the channel (None in DMs)."""


@dataclass(frozen=True, slots=True)
class Autocomplete:
    """An autocomplete request: which command and parameter, and what the user typed so far."""

    invocation: CommandInvocation
    param: str
    current: str


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _snowflake(value: Any) -> str | None:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return text if _SNOWFLAKE.fullmatch(text) else None


def facts_from_payload(payload: Mapping[str, Any]) -> InteractionFacts:
    """Read the invoker and place from an INTERACTION_CREATE payload."""
    member = _mapping(payload.get("member"))
    user = _mapping(member.get("user")) or _mapping(payload.get("user"))
    channel_id = _snowflake(payload.get("channel_id")) or _snowflake(_mapping(payload.get("channel")).get("id"))
    user_id = _snowflake(user.get("id"))
    if channel_id is None or user_id is None:
        raise UnsupportedPayload("an interaction without a channel or user id")
    raw = member.get("permissions")
    permissions = int(raw) if isinstance(raw, str | int) and str(raw).isascii() and str(raw).isdigit() else None
    name = member.get("nick") or user.get("global_name") or user.get("username") or ""
    return InteractionFacts(
        guild_id=_snowflake(payload.get("guild_id")),
        channel_id=channel_id,
        user_id=user_id,
        user_name=str(name)[:80],
        permissions=permissions,
    )


def permission_from(permissions: int | None, *, is_dm: bool) -> Permission:
    """Manage Channels (or Administrator) may change channel state; in a DM the user owns the channel."""
    if is_dm:
        return Permission(can_manage_channel=True, who_can=WHO_CAN_MANAGE)
    value = permissions or 0
    allowed = bool(value & MANAGE_CHANNELS) or bool(value & ADMINISTRATOR)
    return Permission(can_manage_channel=allowed, who_can=WHO_CAN_MANAGE)


def channel_ref(facts: InteractionFacts) -> ChannelRef:
    return ChannelRef(Platform.DISCORD, facts.guild_id or DM_WORKSPACE, facts.channel_id)


def _option_value(value: Any) -> str | int:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return repr(value)  # a NUMBER option: the spec reads it as text and says what it wanted instead
    raise UnsupportedPayload(f"an option value of type {type(value).__name__}")


def _options(value: Any) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_OPTIONS or not all(isinstance(o, Mapping) for o in value):
        raise UnsupportedPayload("options that are not a list of options")
    return value


def _name(option: Mapping[str, Any]) -> str:
    name = option.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UnsupportedPayload("an option without a valid name")
    return name


def _path(data: Mapping[str, Any]) -> tuple[str, list[Mapping[str, Any]]]:
    """(the subcommand's name, its options) of an application command's `data`."""
    if not isinstance(data, Mapping):
        raise UnsupportedPayload("interaction data that is not an object")
    options = _options(data.get("options"))
    names: list[str] = []
    while options and options[0].get("type") in (_SUB_COMMAND, _SUB_COMMAND_GROUP):
        if len(options) != 1 or len(names) == 2:
            raise UnsupportedPayload("a subcommand beside other options")
        names.append(_name(options[0]))
        options = _options(options[0].get("options"))
    # A flat command (no subcommand) is named by the command itself.
    return " ".join(names) or _name(data), options


def command_options(data: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str | int], ...]]:
    """`data` of an application-command interaction -> (subcommand name, its options by name).

    Raises `UnsupportedPayload` for a shape Discord does not send (options that are not a list, an option
    without a name, an option twice); values are left for the core's spec to judge.
    """
    name, options = _path(data)
    values: list[tuple[str, str | int]] = []
    for option in options:
        if option.get("type") in (_SUB_COMMAND, _SUB_COMMAND_GROUP):
            raise UnsupportedPayload("a subcommand among the options")
        option_name = _name(option)
        if any(option_name == seen for seen, _ in values):
            raise UnsupportedPayload(f"option {option_name} given twice")
        if option.get("value") is not None:
            values.append((option_name, _option_value(option["value"])))
    return name, tuple(values)


def invocation(
    facts: InteractionFacts,
    command: str,
    *,
    received_at: datetime,
    args: tuple[str, ...] = (),
    options: tuple[tuple[str, str | int], ...] = (),
    force_private: bool = False,
) -> CommandInvocation:
    is_dm = facts.guild_id is None
    shown = " ".join([command, *args, *(f"{name}:{value}" for name, value in options)])
    return CommandInvocation(
        channel=channel_ref(facts),
        user=UserRef(facts.user_id, facts.user_name),
        text=shown,
        permission=permission_from(facts.permissions, is_dm=is_dm),
        received_at=received_at,
        is_direct_message=is_dm,
        force_private=force_private,
        command=command,
        args=args,
        options=options,
    )


def command_invocation(facts: InteractionFacts, data: Mapping[str, Any], received_at: datetime) -> CommandInvocation:
    """An application-command interaction's `data` -> the invocation of its subcommand."""
    name, options = command_options(data)
    return invocation(facts, name, received_at=received_at, options=options)


def autocomplete(facts: InteractionFacts, data: Mapping[str, Any], received_at: datetime) -> Autocomplete:
    """An autocomplete interaction's `data` -> which parameter is being typed, and what so far.

    The focused value arrives as typed text, but a client may send a number or nothing: both are read
    as text ("" for nothing), so an odd value gets no suggestions rather than an error.
    """
    name, options = _path(data)
    focused = next((o for o in options if o.get("focused") is True), None)
    if focused is None:
        raise UnsupportedPayload("an autocomplete request without a focused option")
    value = focused.get("value")
    current = "" if value is None or isinstance(value, bool) else str(value) if isinstance(value, int | str) else ""
    return Autocomplete(invocation(facts, name, received_at=received_at), _name(focused), current[:100])


def component_invocation(facts: InteractionFacts, custom_id: str, received_at: datetime) -> CommandInvocation | None:
    """A pressed button -> the command its action names, or None when the button is not Paperboy's."""
    pressed = codec.decode(custom_id) if len(custom_id) <= _MAX_CUSTOM_ID else None
    if pressed is None:
        return None
    return invocation(facts, pressed.command, received_at=received_at, args=pressed.args)


def invocation_from_payload(payload: Mapping[str, Any], received_at: datetime) -> CommandInvocation | None:
    """A whole INTERACTION_CREATE payload -> CommandInvocation (None for interactions that are not ours).

    Raises `UnsupportedPayload` for a payload Paperboy cannot read.
    """
    facts = facts_from_payload(payload)
    data = payload.get("data")
    kind = payload.get("type")
    if kind == _APPLICATION_COMMAND:
        return command_invocation(facts, _mapping(data), received_at)
    if kind == _AUTOCOMPLETE:
        return autocomplete(facts, _mapping(data), received_at).invocation
    if kind == _MESSAGE_COMPONENT:
        custom_id = _mapping(data).get("custom_id")
        return component_invocation(facts, custom_id if isinstance(custom_id, str) else "", received_at)
    return None


MAX_SHARED_LINKS = 5
"""The most paper links of one message that are shared."""
_PAPER_LINK = re.compile(
    r"https?://(?:www\.|export\.)?"
    r"(?:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/|alphaxiv\.org/(?:abs/|overview/)?)"
    r"[^\s<>()\[\]|]+",
    re.IGNORECASE,
)


def paper_links(content: str) -> list[str]:
    """The paper-site links of a message, in order, once each (the core decides which are papers)."""
    found: list[str] = []
    for match in _PAPER_LINK.finditer(content[:4000]):
        url = match.group(0).rstrip(".,;:!?'\"*_~`>")
        if url not in found:
            found.append(url)
        if len(found) == MAX_SHARED_LINKS:
            break
    return found

"""Discord interaction payloads -> CommandInvocation. Pure functions over the raw JSON.

A `/papers` subcommand arrives as a structured invocation: the subcommand's name and its typed
options by name (`top` with period=week, n=5), never joined into text, so a value with spaces stays one
value and an option cannot smuggle words into another. The core binds and validates them with the same
spec as typed text. A pressed button's custom id is a `bot.actions` id, read back by `decode`.
"""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class InteractionFacts:
    """Who invoked what where: the parts of an interaction that translation needs."""

    guild_id: str | None
    channel_id: str
    user_id: str
    user_name: str
    permissions: int | None
    """The member's resolved permissions in the channel (None in DMs)."""


def facts_from_payload(payload: Mapping[str, Any]) -> InteractionFacts:
    """Read the invoker and place from an INTERACTION_CREATE payload."""
    guild_id = payload.get("guild_id")
    member = payload.get("member") or {}
    user = member.get("user") or payload.get("user") or {}
    channel_id = payload.get("channel_id") or (payload.get("channel") or {}).get("id") or ""
    raw = member.get("permissions")
    return InteractionFacts(
        guild_id=str(guild_id) if guild_id else None,
        channel_id=str(channel_id),
        user_id=str(user.get("id", "")),
        user_name=str(member.get("nick") or user.get("global_name") or user.get("username") or ""),
        permissions=int(raw) if raw is not None else None,
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
    if isinstance(value, int):
        return value
    return str(value)


def command_options(data: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str | int], ...]]:
    """`data` of an application-command interaction -> (subcommand name, its options by name)."""
    options: list[Mapping[str, Any]] = list(data.get("options") or [])
    names: list[str] = []
    while options and options[0].get("type") in (_SUB_COMMAND, _SUB_COMMAND_GROUP):
        names.append(str(options[0]["name"]))
        options = list(options[0].get("options") or [])
    values = tuple((str(o["name"]), _option_value(o["value"])) for o in options if o.get("value") is not None)
    # A flat command (no subcommand) is named by the command itself.
    return " ".join(names) or str(data.get("name", "")), values


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


def component_invocation(facts: InteractionFacts, custom_id: str, received_at: datetime) -> CommandInvocation | None:
    """A pressed button -> the command its action names, or None when the button is not Paperboy's."""
    pressed = codec.decode(custom_id)
    if pressed is None:
        return None
    return invocation(facts, pressed.command, received_at=received_at, args=pressed.args)


def invocation_from_payload(payload: Mapping[str, Any], received_at: datetime) -> CommandInvocation | None:
    """A whole INTERACTION_CREATE payload -> CommandInvocation (None for interactions that are not ours)."""
    facts = facts_from_payload(payload)
    data = payload.get("data") or {}
    kind = payload.get("type")
    if kind in (_APPLICATION_COMMAND, _AUTOCOMPLETE):
        name, options = command_options(data)
        return invocation(facts, name, received_at=received_at, options=options)
    if kind == _MESSAGE_COMPONENT:
        return component_invocation(facts, str(data.get("custom_id", "")), received_at)
    return None

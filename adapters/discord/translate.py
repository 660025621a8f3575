"""Discord interaction payloads -> CommandInvocation. Pure functions over the raw JSON.

The `/papers` group's subcommand and its options are rebuilt into the text a user would have typed
(`top` with period=week, n=5 -> "top week 5"), in the order of the CommandSpec's args, so the core
parses one text format for every platform. Nothing is quoted: the core's parser takes the rest of
the line for a trailing TEXT argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.types import ChannelRef, CommandInvocation, CommandSpec, Permission, Platform, UserRef

from .render import SIMILAR_PREFIX, UNSUBSCRIBE_PREFIX

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


def _option_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return " ".join(str(value).split())


def command_text(data: Mapping[str, Any], specs: Sequence[CommandSpec]) -> str:
    """`data` of an application-command interaction -> "<subcommand> <values in spec order>".

    Options that are not subcommands (a flat command) are appended in the order they came.
    """
    options: list[Mapping[str, Any]] = list(data.get("options") or [])
    words: list[str] = []
    while options and options[0].get("type") in (_SUB_COMMAND, _SUB_COMMAND_GROUP):
        words.append(str(options[0]["name"]))
        options = list(options[0].get("options") or [])
    values = {str(o["name"]): o.get("value") for o in options if o.get("value") is not None}
    spec = next((s for s in specs if words and s.name == words[0]), None)
    ordered = [values.pop(a.name) for a in spec.args if a.name in values] if spec is not None else []
    ordered.extend(values.values())
    words.extend(t for t in (_option_text(v) for v in ordered) if t)
    return " ".join(words)


def component_text(custom_id: str) -> tuple[str, bool] | None:
    """A Paperboy button's custom id -> (command text, force_private), or None if it is not ours."""
    if custom_id.startswith(SIMILAR_PREFIX):
        paper_id = custom_id[len(SIMILAR_PREFIX) :].strip()
        return (f"similar {paper_id}", True) if paper_id else None
    if custom_id.startswith(UNSUBSCRIBE_PREFIX):
        topic_id = custom_id[len(UNSUBSCRIBE_PREFIX) :].strip()
        return (f"unsubscribe {topic_id}", False) if topic_id else None
    return None


def invocation(
    facts: InteractionFacts, text: str, received_at: datetime, *, force_private: bool = False
) -> CommandInvocation:
    is_dm = facts.guild_id is None
    return CommandInvocation(
        channel=channel_ref(facts),
        user=UserRef(facts.user_id, facts.user_name),
        text=text,
        permission=permission_from(facts.permissions, is_dm=is_dm),
        received_at=received_at,
        is_direct_message=is_dm,
        force_private=force_private,
    )


def invocation_from_payload(
    payload: Mapping[str, Any], specs: Sequence[CommandSpec], received_at: datetime
) -> CommandInvocation | None:
    """A whole INTERACTION_CREATE payload -> CommandInvocation (None for interactions that are not ours)."""
    facts = facts_from_payload(payload)
    data = payload.get("data") or {}
    kind = payload.get("type")
    if kind in (_APPLICATION_COMMAND, _AUTOCOMPLETE):
        return invocation(facts, command_text(data, specs), received_at)
    if kind == _MESSAGE_COMPONENT:
        parsed = component_text(str(data.get("custom_id", "")))
        if parsed is None:
            return None
        text, private = parsed
        return invocation(facts, text, received_at, force_private=private)
    return None

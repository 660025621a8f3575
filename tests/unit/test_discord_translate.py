"""Interaction payloads (recorded and documented samples) -> CommandInvocation."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.discord.translate import (
    UnsupportedPayload,
    autocomplete,
    command_options,
    facts_from_payload,
    invocation_from_payload,
)
from bot.types import Platform
from tests.shared_data import SAMPLES

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    return data


def with_subcommand(payload: dict[str, Any], name: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    payload["data"]["options"] = [{"type": 1, "name": name, "options": options}]
    return payload


def test_minimal_slash_sample_translates_channel_user_and_permission() -> None:
    payload = with_subcommand(
        sample("discord_interaction_slash_command_minimal_for_discordpy.json"),
        "top",
        [{"type": 4, "name": "n", "value": 5}, {"type": 3, "name": "period", "value": "week"}],
    )
    inv = invocation_from_payload(payload, WHEN)
    assert inv is not None
    # Structured: the subcommand and its typed options by name, never joined into text.
    assert inv.command == "top" and inv.options == (("n", 5), ("period", "week"))
    assert (inv.channel.platform, inv.channel.workspace_id, inv.channel.channel_id) == (Platform.DISCORD, "222", "333")
    assert (inv.user.user_id, inv.user.display_name) == ("444", "alice")
    assert inv.permission.can_manage_channel  # 2147483647 includes Manage Channels
    assert inv.permission.who_can == "members with Manage Channels"
    assert not inv.is_direct_message and not inv.force_private
    assert inv.received_at == WHEN


def test_docs_example_sample_keeps_a_value_with_spaces_whole() -> None:
    payload = with_subcommand(
        sample("discord_interaction_slash_command_docs_example.json"),
        "search",
        [{"type": 3, "name": "query", "value": "moe   -survey"}],
    )
    inv = invocation_from_payload(payload, WHEN)
    assert inv is not None
    assert inv.command == "search" and inv.options == (("query", "moe   -survey"),)
    assert str(inv.channel) == "discord:290926798626357999:645027906669510667"
    assert inv.user.display_name == "Mason"


def test_flat_sample_without_subcommand_is_named_by_the_command() -> None:
    inv = invocation_from_payload(sample("discord_interaction_slash_command_minimal_for_discordpy.json"), WHEN)
    assert inv is not None and inv.command == "papers" and inv.options == (("topic", "diffusion"),)


@pytest.mark.parametrize(("permissions", "expected"), [("0", False), ("16", True), ("8", True), ("2048", False)])
def test_manage_channels_bit(permissions: str, expected: bool) -> None:
    payload = sample("discord_interaction_slash_command_minimal_for_discordpy.json")
    payload["member"]["permissions"] = permissions
    inv = invocation_from_payload(payload, WHEN)
    assert inv is not None and inv.permission.can_manage_channel is expected


def test_recorded_button_click() -> None:
    recorded = sample("discord_interaction_component_recorded.json")
    assert invocation_from_payload(recorded, WHEN) is None  # "hello" is not Paperboy's button
    recorded["data"]["custom_id"] = "pb:similar:2402.17764"
    inv = invocation_from_payload(recorded, WHEN)
    assert inv is not None
    assert (inv.command, inv.args) == ("similar", ("2402.17764",))
    assert str(inv.channel) == "discord:1457468924290662599:1457536551830421524"  # the thread it was clicked in
    assert inv.user.display_name == "Test User"
    recorded["data"]["custom_id"] = "pb:unsub:12"  # a button posted before the action encoding
    inv = invocation_from_payload(recorded, WHEN)
    assert inv is not None and (inv.command, inv.args) == ("unsubscribe", ("12",))


def test_direct_message_interaction() -> None:
    payload = sample("discord_interaction_slash_command_minimal_for_discordpy.json")
    user = payload.pop("member")["user"]
    payload.pop("guild_id")
    payload["user"] = user
    inv = invocation_from_payload(with_subcommand(payload, "topics", []), WHEN)
    assert inv is not None
    assert inv.is_direct_message and inv.channel.workspace_id == "@dm"
    assert inv.command == "topics" and inv.options == ()


def test_command_options_skip_missing_optionals_and_read_booleans() -> None:
    data = {
        "name": "papers",
        "options": [
            {
                "type": 1,
                "name": "digest",
                "options": [
                    {"type": 3, "name": "timezone", "value": "Europe/Paris"},
                    {"type": 3, "name": "time", "value": None},
                    {"type": 5, "name": "flag", "value": True},
                ],
            }
        ],
    }
    assert command_options(data) == ("digest", (("timezone", "Europe/Paris"), ("flag", "on")))


@pytest.mark.parametrize(
    "options",
    [
        [{"type": 3, "value": "x"}],
        "options",
        [{"type": 3, "name": "q", "value": [1]}],
        [{"type": 1, "name": "a", "options": []}, {"type": 1, "name": "b", "options": []}],
    ],
)
def test_malformed_options_are_unsupported(options: object) -> None:
    data = {"name": "papers", "options": [{"type": 1, "name": "search", "options": options}]}
    with pytest.raises(UnsupportedPayload):
        command_options(data)


@pytest.mark.parametrize(("value", "current"), [(7, "7"), (None, ""), ("moe", "moe"), (True, "")])
def test_autocomplete_reads_any_focused_value_as_text(value: object, current: str) -> None:
    payload = with_subcommand(
        sample("discord_interaction_slash_command_minimal_for_discordpy.json"),
        "unsubscribe",
        [{"type": 3, "name": "topic", "value": value, "focused": True}],
    )
    request = autocomplete(facts_from_payload(payload), payload["data"], WHEN)
    assert (request.invocation.command, request.param, request.current) == ("unsubscribe", "topic", current)


def test_ids_that_are_not_snowflakes_are_unsupported() -> None:
    payload = sample("discord_interaction_slash_command_minimal_for_discordpy.json")
    payload["channel_id"] = "../etc"
    payload.pop("channel", None)
    with pytest.raises(UnsupportedPayload):
        facts_from_payload(payload)
    payload["channel_id"] = "333"
    payload["member"]["permissions"] = "²"
    assert facts_from_payload(payload).permissions is None

"""Interactions discord.py's command tree would drop, through the real discord.py and the fake gateway.

Every one gets an answer (Discord's "This interaction failed" otherwise), an error one included; nothing
is left as a task exception never retrieved; a repeated interaction runs once.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from adapters.discord.adapter import UNKNOWN_BUTTON, UNREADABLE_COMMAND, DiscordAdapter
from tests.fakes.discord import FakeCore, FakeDiscord, autocomplete, button, slash

DEFERRED, MESSAGE, SUGGESTIONS = 5, 4, 8


pytestmark = pytest.mark.usefixtures("no_tracebacks")


async def answered(fake: FakeDiscord, payload: dict[str, Any]) -> dict[str, Any]:
    """Push one interaction and return Discord's record of its answer (within the 3 s Discord allows)."""
    await fake.push_interaction(payload)
    await fake.wait_for(lambda: any(c["interaction_id"] == payload["id"] for c in fake.callbacks), within=3)
    return next(c for c in fake.callbacks if c["interaction_id"] == payload["id"])


def with_options(payload: dict[str, Any], options: Any) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    payload["data"]["options"][0]["options"] = options
    return payload


async def test_unknown_subcommands_and_missing_options_reach_the_core(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore
) -> None:
    # discord.py's tree raises CommandNotFound / CommandSignatureMismatch for these and answers nothing.
    for payload in (slash("nonexistent"), slash("top"), slash("today", {"n": 3, "extra": "x"})):
        callback = await answered(fake, payload)
        assert callback["type"] == DEFERRED
    await fake.wait_for(lambda: len(core.invocations) == 3)
    # Every reply landed before the fake stops (under load the last one could still be in flight).
    await fake.wait_for(lambda: sum(1 for p in fake.posted if p.via == "followup") >= 3)
    assert [(i.command, i.options) for i in core.invocations] == [
        ("nonexistent", ()),
        ("top", ()),
        ("today", (("n", 3), ("extra", "x"))),
    ], "the core binds them and says what is wrong"
    # Every answer lands before the fake stops (a follow-up still in flight at teardown was a flake).
    await fake.wait_for(lambda: sum(p.via == "followup" for p in fake.posted) == 3)


@pytest.mark.parametrize(
    "options",
    [
        [{"type": 3, "value": "x"}],
        [{"type": 3, "name": "", "value": "x"}],
        [{"type": 3, "name": "Query With Spaces", "value": "x"}],
        "not a list",
        {"name": "query"},
        [1, 2],
        [{"type": 3, "name": "query", "value": {"nested": True}}],
        [{"type": 3, "name": "query", "value": "a"}, {"type": 3, "name": "query", "value": "b"}],
        [{"type": 3, "name": "query", "value": "a"}, {"type": 1, "name": "sub", "options": []}],
        [{"type": 3, "name": f"o{i}", "value": "x"} for i in range(30)],
    ],
)
async def test_malformed_options_get_a_private_error(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore, options: Any
) -> None:
    callback = await answered(fake, with_options(slash("search"), options))
    assert callback["type"] == MESSAGE and callback["data"]["flags"] & 64
    assert callback["data"]["content"] == UNREADABLE_COMMAND
    assert core.invocations == []


@pytest.mark.parametrize("value", [7, None, True, 10**30, {"x": 1}])
async def test_autocomplete_with_an_odd_value_answers_suggestions(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore, value: Any
) -> None:
    payload = autocomplete("unsubscribe", "topic", "")
    payload["data"]["options"][0]["options"][0]["value"] = value
    callback = await answered(fake, payload)
    assert callback["type"] == SUGGESTIONS


async def test_autocomplete_without_a_focused_option_answers_no_suggestions(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    payload = autocomplete("unsubscribe", "topic", "x")
    del payload["data"]["options"][0]["options"][0]["focused"]
    callback = await answered(fake, payload)
    assert callback["type"] == SUGGESTIONS and callback["data"]["choices"] == []


@pytest.mark.parametrize("custom_id", ["pb:unsub:", "pb:", "", "pb:unsubscribe:1:", "pb:Bad Name:1", "x" * 100])
async def test_unknown_or_empty_custom_ids_get_a_private_error(
    adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore, custom_id: str
) -> None:
    callback = await answered(fake, button(custom_id))
    assert callback["type"] == MESSAGE and callback["data"]["flags"] & 64
    assert callback["data"]["content"] == UNKNOWN_BUTTON
    assert core.invocations == []


async def test_a_repeated_interaction_runs_once(adapter: DiscordAdapter, fake: FakeDiscord, core: FakeCore) -> None:
    payload = slash("today", {"n": 3})
    await answered(fake, payload)
    await fake.push_interaction(payload)  # a gateway resume may hand it over again
    later = slash("topics")
    await answered(fake, later)
    await fake.wait_for(lambda: len(core.invocations) == 2)
    # The later reply is a follow-up after the deferral: let it land before the adapter is stopped.
    await fake.wait_for(lambda: f"followup:{later['token']}" in fake.events)
    assert [i.command for i in core.invocations] == ["today", "topics"]
    assert [c["interaction_id"] for c in fake.callbacks] == [payload["id"], later["id"]]

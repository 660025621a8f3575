"""The pure readers of platform payloads, on generated payloads: a value or their one documented refusal."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.discord import translate as discord
from adapters.slack import inbound
from adapters.slack import translate as slack
from bot.types import Permission
from tests.fuzz.stack import FUZZ
from tests.fuzz.strategies import interactions, json_values, slack_objects, slack_requests

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SLACK_READERS = (slack.slash_command, slack.app_mention, slack.block_action)


@FUZZ
@given(body=st.dictionaries(st.sampled_from(["team_id", "channel_id", "user_id", "text", "event", "actions",
                                             "team", "user", "channel", "container"]), json_values))  # fmt: skip
def test_slack_translators_return_an_invocation_or_refuse(body: dict[str, Any]) -> None:
    for read in SLACK_READERS:
        try:
            invocation = read(body, permission=Permission(True), received_at=WHEN)
        except slack.UnsupportedPayload:
            continue
        assert len(invocation.channel.workspace_id) <= 64 and len(invocation.user.user_id) <= 64


@FUZZ
@given(request=st.one_of(slack_requests, slack_objects))
def test_slack_requests_parse_or_are_malformed(request: Any) -> None:
    try:
        body = inbound.parse_body(inbound.decode(request.body), request.content_type)
        where, what = inbound.route(body, "/papers")
    except inbound.Malformed as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(where, inbound.Route) and isinstance(what, str)
    if where is inbound.Route.BOLT and "command" not in body:
        # What Bolt's context builders read has the shape they read it in.
        for reader in SLACK_READERS:
            with contextlib.suppress(slack.UnsupportedPayload):
                reader(body, permission=Permission(True), received_at=WHEN)


@FUZZ
@given(payload=interactions(), data=json_values)
def test_discord_translation_returns_an_invocation_or_refuses(payload: dict[str, Any], data: Any) -> None:
    for candidate in (payload, {**payload, "data": data}):
        with contextlib.suppress(discord.UnsupportedPayload):
            discord.invocation_from_payload(candidate, WHEN)

"""Socket Mode: envelopes over the fake's WebSocket (from apps.connections.open) drive the adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from adapters.slack.adapter import SlackAdapter
from bot.clock import FixedClock
from bot.config import SlackSettings
from tests.fakes.slack import NOW, FakeCore, FakeSlack, action_payload, mention_event, slash_body, wait_for


@pytest.fixture
async def socket_adapter(fake: FakeSlack, core: FakeCore) -> AsyncIterator[SlackAdapter]:
    settings = SlackSettings(
        bot_token=SecretStr("xoxb-t1-token"), app_token=SecretStr("xapp-1-test"), api_url=fake.api_url
    )
    adapter = SlackAdapter(settings, web_app=None, clock=FixedClock(NOW), min_post_interval=0.05)
    await adapter.start(core)
    yield adapter
    await adapter.stop()


async def test_connects_with_the_app_token(fake: FakeSlack, socket_adapter: SlackAdapter) -> None:
    (call,) = fake.calls_of("apps.connections.open")
    assert call.token == "xapp-1-test"
    assert len(fake.sessions) == 1


async def test_slash_command_envelope_is_acked_and_answered(
    fake: FakeSlack, core: FakeCore, socket_adapter: SlackAdapter
) -> None:
    envelope = await fake.push("slash_commands", slash_body(fake, "slow"))
    ack = await fake.wait_ack(envelope, within=2)
    assert ack["envelope_id"] == envelope
    assert not fake.responses, "acked before the command finished"
    core.release.set()
    await wait_for(lambda: len(fake.responses) == 1, what="the reply")
    assert fake.responses[0][1]["text"] == "finally"
    assert "payload" not in ack, "acked empty: the reply was not ready within the budget"


async def test_a_ready_reply_rides_in_the_socket_ack(
    fake: FakeSlack, core: FakeCore, socket_adapter: SlackAdapter
) -> None:
    envelope = await fake.push("slash_commands", slash_body(fake, "nonsense"))
    ack = await fake.wait_ack(envelope, within=2)
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "Unknown subcommand" in ack["payload"]["text"]
    assert fake.ack_answers == fake.responses and len(fake.responses) == 1


async def test_several_subcommands(fake: FakeSlack, core: FakeCore, socket_adapter: SlackAdapter) -> None:
    envelopes = [await fake.push("slash_commands", slash_body(fake, t)) for t in ("today", "digest preview", "topics")]
    for e in envelopes:
        await fake.wait_ack(e)
    await wait_for(lambda: len(fake.responses) == 3, what="three replies")
    types = {hook: p["response_type"] for hook, p in fake.responses}
    assert types == {"T1-C1-today": "in_channel", "T1-C1-digest_preview": "ephemeral", "T1-C1-topics": "in_channel"}


async def test_mention_and_button_envelopes(fake: FakeSlack, core: FakeCore, socket_adapter: SlackAdapter) -> None:
    e1 = await fake.push("events_api", mention_event("paper 2411.10001"))
    e2 = await fake.push("interactive", action_payload(fake, "paperboy_unsubscribe:7", "7"))
    await fake.wait_ack(e1)
    await fake.wait_ack(e2)
    await wait_for(lambda: len(fake.posts) == 1 and len(fake.responses) == 1, what="both replies")
    assert sorted(i.text for i in core.invocations) == ["paper 2411.10001", "unsubscribe 7"]
    mention, pressed = sorted(core.invocations, key=lambda i: i.text)
    assert mention.command is None  # typed text, parsed by the core
    assert (pressed.command, pressed.args) == ("unsubscribe", ("7",))  # a pressed action, never re-split
    assert fake.responses[0][1]["text"] == "Removed topic #7."


async def test_a_redelivered_event_runs_once_and_unhandled_ones_are_acked(
    fake: FakeSlack, core: FakeCore, socket_adapter: SlackAdapter
) -> None:
    event = mention_event("today", event_id="Ev0SOCKET01")
    first = await fake.push("events_api", event)
    again = await fake.push("events_api", event)  # Slack redelivers an envelope it thinks was lost
    other = await fake.push("events_api", {**event, "event_id": "Ev0SOCKET02", "event": {"type": "message"}})
    payload = {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": "U1"}}
    view = await fake.push("interactive", {**payload, "view": {"type": "modal", "callback_id": "not-ours"}})
    for envelope in (first, again, other, view):
        await fake.wait_ack(envelope)  # every one acknowledged: nothing for Slack to retry
    await wait_for(lambda: len(fake.posts) == 1, what="the reply")
    await fake.push("events_api", mention_event("topics"))
    await wait_for(lambda: len(fake.posts) == 2, what="a later event's reply")
    assert [i.text for i in core.invocations] == ["today", "topics"]

"""Slack payloads -> CommandInvocation, on recorded and documented payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest

from adapters.slack import translate
from bot import actions as codec
from bot.types import Action, ChannelRef, Permission, Platform
from tests.shared_data import SAMPLES

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
EVERYONE = Permission(True, "everyone")


def form(name: str) -> dict[str, str]:
    return dict(parse_qsl((SAMPLES / name).read_text(), keep_blank_values=True))


def test_recorded_slash_command_bodies() -> None:
    inv = translate.slash_command(
        form("slack_slash_command_body_official_vector.txt"), permission=EVERYONE, received_at=NOW
    )
    assert inv.channel == ChannelRef(Platform.SLACK, "T1DC2JH3J", "G8PSS9T3V")
    assert inv.user.user_id == "U2CERLKJA" and inv.user.display_name == "roadrunner"
    assert inv.text == "" and not inv.is_direct_message and not inv.force_private
    assert inv.received_at == NOW and inv.permission == EVERYONE

    inv = translate.slash_command(form("slack_slash_command_body_bolt_tests.txt"), permission=EVERYONE, received_at=NOW)
    assert inv.channel == ChannelRef(Platform.SLACK, "T111", "C111")
    assert inv.text == "Hi"


def test_slash_command_text_is_stripped_and_dm_detected() -> None:
    body = form("slack_slash_command_body_bolt_tests.txt") | {"text": "  today 5 \n", "channel_name": "directmessage"}
    inv = translate.slash_command(body, permission=EVERYONE, received_at=NOW)
    assert inv.text == "today 5" and inv.is_direct_message
    body = form("slack_slash_command_body_bolt_tests.txt") | {"channel_id": "D024BE91L", "channel_name": "x"}
    assert translate.slash_command(body, permission=EVERYONE, received_at=NOW).is_direct_message


def test_slash_command_without_ids_is_rejected() -> None:
    with pytest.raises(translate.UnsupportedPayload):
        translate.slash_command({"text": "today"}, permission=EVERYONE, received_at=NOW)


def mention_body(text: str, **event: Any) -> dict[str, Any]:
    # Shape of the Events API app_mention example in Slack's docs.
    return {
        "token": "ZZZZZZWSxiZZZ2yIvs3peJ",
        "team_id": "T061EG9R6",
        "api_app_id": "A0MDYCDME",
        "event": {
            "type": "app_mention",
            "user": "U061F7AUR",
            "text": text,
            "ts": "1515449522.000016",
            "channel": "C123ABC456",
            "event_ts": "1515449522000016",
            **event,
        },
        "type": "event_callback",
        "event_id": "Ev0LAN670R",
        "event_time": 1515449522000016,
        "authorizations": [{"team_id": "T061EG9R6", "user_id": "U0LAN0Z89", "is_bot": True}],
    }


def test_app_mention_strips_the_leading_bot_mention() -> None:
    inv = translate.app_mention(
        mention_body("<@U0LAN0Z89> search  &lt;moe&gt; &amp; rl"), permission=EVERYONE, received_at=NOW
    )
    assert inv.text == "search  <moe> & rl"
    assert inv.channel == ChannelRef(Platform.SLACK, "T061EG9R6", "C123ABC456")
    assert inv.user.user_id == "U061F7AUR"
    inv = translate.app_mention(mention_body("<@U0LAN0Z89|paperboy>: today"), permission=EVERYONE, received_at=NOW)
    assert inv.text == "today"
    # Only the leading mention goes; a mention later in the text is the user's.
    inv = translate.app_mention(mention_body("<@U0LAN0Z89> paper <@U999>"), permission=EVERYONE, received_at=NOW)
    assert inv.text == "paper <@U999>"


def test_app_mention_in_a_dm() -> None:
    body = mention_body("<@U0LAN0Z89> today", channel="D0123", channel_type="im")
    assert translate.app_mention(body, permission=EVERYONE, received_at=NOW).is_direct_message


def action_body(action_id: str, value: str, channel: str = "C0CHANNEL") -> dict[str, Any]:
    # Shape of a block_actions payload from Slack's interactivity docs.
    return {
        "type": "block_actions",
        "team": {"id": "T9TK3CUKW", "domain": "example"},
        "user": {"id": "UA8RXUSPL", "username": "jtorrance", "team_id": "T9TK3CUKW"},
        "api_app_id": "AABA1ABCD",
        "token": "9s8d9as89d8as9d8as989",
        "container": {"type": "message", "message_ts": "1548261231.000200", "channel_id": channel},
        "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
        "channel": {"id": channel, "name": "review-updates"},
        "message": {"type": "message", "ts": "1548261231.000200", "text": "papers"},
        "response_url": "https://hooks.slack.com/actions/AABA1ABCD/1232321423432/D09sSasdasdAS9091209",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "blk",
                "text": {"type": "plain_text", "text": "More like this", "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": "1548426417.840180",
            }
        ],
    }


def test_a_button_is_the_command_its_action_names() -> None:
    pressed = Action("similar", ("2402.17764",), "More like this")
    encoded = codec.encode(pressed)
    inv = translate.block_action(action_body(encoded, encoded), permission=EVERYONE, received_at=NOW)
    assert (inv.command, inv.args) == ("similar", ("2402.17764",))
    assert inv.channel == ChannelRef(Platform.SLACK, "T9TK3CUKW", "C0CHANNEL")
    assert inv.user.user_id == "UA8RXUSPL"


def test_buttons_posted_before_the_action_encoding_still_work() -> None:
    inv = translate.block_action(
        action_body("paperboy_more_like_this:2402.17764", "2402.17764"), permission=EVERYONE, received_at=NOW
    )
    assert (inv.command, inv.args) == ("similar", ("2402.17764",))
    inv = translate.block_action(action_body("paperboy_unsubscribe:7", "7"), permission=EVERYONE, received_at=NOW)
    assert (inv.command, inv.args) == ("unsubscribe", ("7",))


def test_an_overflow_menu_option_is_the_command_it_names() -> None:
    body = action_body("pb-menu:pb:similar:2402.17764", "")
    element = body["actions"][0]
    element.pop("value")
    element.update(
        type="overflow",
        selected_option={"text": {"type": "plain_text", "text": "Unsubscribe"}, "value": "pb:unsubscribe:7"},
    )
    inv = translate.block_action(body, permission=EVERYONE, received_at=NOW)
    assert (inv.command, inv.args) == ("unsubscribe", ("7",))


def test_an_argument_is_one_value_whatever_it_holds() -> None:
    encoded = codec.encode(Action("unsubscribe", ("1; digest off",)))
    inv = translate.block_action(action_body(encoded, encoded), permission=EVERYONE, received_at=NOW)
    assert inv.args == ("1; digest off",)  # the core reads it as one (unknown) topic, never as two commands


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("someone_elses_button", "1"),
        ("paperboy_unsubscribe:1", "1; digest off"),
        ("paperboy_unsubscribe:1", ""),
        ("pb:", ""),
        ("pb:similar:", ""),
        ("pb:NOT A COMMAND:1", ""),
    ],
)
def test_unknown_or_malformed_buttons_are_rejected(action_id: str, value: str) -> None:
    with pytest.raises(translate.UnsupportedPayload):
        translate.block_action(action_body(action_id, value), permission=EVERYONE, received_at=NOW)


def test_a_direct_message_is_a_command_and_bot_messages_are_not() -> None:
    from adapters.slack import translate as tr
    from bot.types import Permission
    from tests.fakes.slack import home_opened_event, im_event

    now = datetime(2026, 1, 1, tzinfo=UTC)
    inv = tr.direct_message(im_event("search moe &amp; rag"), permission=Permission(True), received_at=now)
    assert (inv.text, inv.is_direct_message, inv.channel.channel_id, inv.user.user_id) == (
        "search moe & rag",
        True,
        "D1",
        "U1",
    )
    with pytest.raises(tr.UnsupportedPayload):
        tr.direct_message(im_event("today", bot=True), permission=Permission(True), received_at=now)
    edited = im_event("today")
    edited["event"]["subtype"] = "message_changed"
    with pytest.raises(tr.UnsupportedPayload):
        tr.direct_message(edited, permission=Permission(True), received_at=now)
    assert tr.home_opened(home_opened_event(user="U7")) == ("T1", "U7")
    with pytest.raises(tr.UnsupportedPayload):
        tr.home_opened(home_opened_event(tab="messages"))


def test_the_channel_name_is_kept_only_when_it_is_a_plain_channel_name() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    body = {"team_id": "T1", "channel_id": "C1", "user_id": "U1", "text": "like 2402.17764"}
    named = translate.slash_command(body | {"channel_name": "ml-papers"}, permission=Permission(True), received_at=now)
    assert named.channel_name == "ml-papers"
    for odd in ("directmessage", "privategroup", "<!channel>", "x" * 200, ""):
        inv = translate.slash_command(body | {"channel_name": odd}, permission=Permission(True), received_at=now)
        assert inv.channel_name == "", odd

"""Hypothesis strategies for what a hostile or clumsy client sends: text, JSON, Slack requests, interactions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import strategies as st

from bot.features import command_specs
from tests.fakes import discord as fd

COMMANDS = [s.name for s in command_specs()]
PARAMS = sorted({p.name for s in command_specs() for p in s.params})
SPECIAL = [
    "²", "٣", "³", "１", "9223372036854775808", "-1", "0", "99999999999", "5" * 1001, "\x00", "\x1b[31m", "\u202e",
    "\r\n", "\t", "<!channel>", "@everyone", "<@U123>", "&amp;", '"', "'", '"unclosed', "(", ")", "OR",
    "-", "author:", "upvotes:>=", "title:\"x\"", "Etc", "America", "Europe/Paris", "../../etc/passwd", "09:00",
    "25:99", "٠٩:٠٠", "on", "off", "max", "min-upvotes", "week", "month", "now", "preview", "at", "2402.17764",
    "https://arxiv.org/abs/2402.17764", "#3", "x" * 400, "payload", "%7B", "pb:unsub:", "moe", "diffusion",
]  # fmt: skip

words = st.sampled_from(COMMANDS + SPECIAL + ["todya", "papers", "/papers"])
hostile_text = st.one_of(
    st.text(max_size=60),
    st.lists(words, max_size=6).map(" ".join),
    st.sampled_from(SPECIAL),
)
command_text = st.one_of(
    st.tuples(st.sampled_from(COMMANDS), st.lists(st.one_of(words, st.text(max_size=12)), max_size=5)).map(
        lambda t: " ".join([t[0], *t[1]])
    ),
    hostile_text,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    hostile_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)


# ---------------------------------------------------------------------------------------------
# Slack

SLACK_TYPES = [
    "event_callback", "block_actions", "view_submission", "view_closed", "shortcut", "message_action",
    "url_verification", "block_suggestion", "interactive_message", "app_rate_limited", "",
]  # fmt: skip
SLACK_FIELDS = [
    "team", "team_id", "user", "user_id", "channel", "channel_id", "event", "event_id", "actions", "view",
    "authorizations", "enterprise", "enterprise_id", "container", "message", "callback_id", "command", "text",
    "token", "api_app_id", "trigger_id", "is_enterprise_install", "challenge", "response_url",
]  # fmt: skip
RESPONSE_URL = "{response_url}"
"""Stands for the fake's response URL: Paperboy posts replies there, and a test must not reach past loopback."""


@dataclass(frozen=True)
class SlackRequest:
    body: bytes
    content_type: str


def _signed_json(value: Any) -> SlackRequest:
    return SlackRequest(json.dumps(value).encode(), "application/json")


def _action_id(command: str, args: list[str]) -> str:
    return "pb:" + ":".join([command, *(quote(a, safe="") for a in args)])


@st.composite
def slash_forms(draw: st.DrawFn) -> SlackRequest:
    body = {
        "token": "verification_token",
        "team_id": draw(st.sampled_from(["T1", "T2"]) | st.text(max_size=70)),
        "channel_id": draw(st.sampled_from(["C1", "D1"]) | st.text(max_size=70)),
        "user_id": draw(st.sampled_from(["U1", "U2"]) | st.text(max_size=10)),
        "user_name": draw(hostile_text),
        "command": "/papers",
        "text": draw(command_text),
        "response_url": RESPONSE_URL,
        "trigger_id": draw(st.uuids()).hex,
    }
    extra = draw(st.dictionaries(st.sampled_from(SLACK_FIELDS), st.text(max_size=20), max_size=2))
    return SlackRequest(urlencode({**body, **extra}).encode(), "application/x-www-form-urlencoded")


@st.composite
def mentions(draw: st.DrawFn) -> SlackRequest:
    event = {
        "type": "app_mention",
        "user": draw(st.sampled_from(["U1"]) | json_values),
        "text": draw(command_text.map(lambda t: f"<@UBOT1> {t}") | json_values),
        "ts": "1515449522.000016",
        "channel": draw(st.sampled_from(["C1"]) | json_values),
    }
    return _signed_json(
        {"type": "event_callback", "team_id": "T1", "event_id": f"Ev{draw(st.uuids()).hex[:12]}", "event": event}
    )


@st.composite
def button_presses(draw: st.DrawFn) -> SlackRequest:
    action_id = draw(
        st.tuples(st.sampled_from(COMMANDS), st.lists(hostile_text, max_size=3)).map(lambda t: _action_id(*t))
        | st.text(max_size=40)
        | st.sampled_from(["paperboy_unsubscribe:1", "paperboy_more_like_this:x", "pb:unsub:", "pb:"])
    )
    action = {
        "action_id": action_id,
        "type": draw(st.sampled_from(["button", "overflow"])),
        "value": draw(hostile_text),
    }
    if action["type"] == "overflow":
        action["selected_option"] = draw(st.fixed_dictionaries({"value": hostile_text}) | json_values)
    payload = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1", "username": "ada", "team_id": "T1"},
        "channel": {"id": "C1", "name": "papers"},
        "response_url": RESPONSE_URL,
        "trigger_id": draw(st.uuids()).hex,
        "actions": [action],
    }
    return SlackRequest(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")


slack_objects = st.fixed_dictionaries(
    {"type": st.sampled_from(SLACK_TYPES) | json_values}, optional={f: json_values for f in SLACK_FIELDS}
).map(_signed_json)
slack_junk = st.one_of(
    json_values.map(_signed_json),
    st.binary(max_size=200).map(lambda b: SlackRequest(b, "application/json")),
    st.binary(max_size=200).map(lambda b: SlackRequest(b, "application/x-www-form-urlencoded")),
    st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4).map(
        lambda d: SlackRequest(urlencode(d).encode(), "application/x-www-form-urlencoded")
    ),
    json_values.map(
        lambda v: SlackRequest(urlencode({"payload": json.dumps(v)}).encode(), "application/x-www-form-urlencoded")
    ),
)
slack_requests = st.one_of(slash_forms(), mentions(), button_presses(), slack_objects, slack_junk)


# ---------------------------------------------------------------------------------------------
# Discord

options = st.recursive(
    st.lists(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from([3, 4, 5, 10]) | json_values,
                "name": st.sampled_from(PARAMS) | st.text(max_size=34),
                "value": hostile_text | st.integers(min_value=-(2**80), max_value=2**80) | json_values,
            },
            optional={"focused": st.booleans()},
        ),
        max_size=4,
    ),
    lambda inner: st.lists(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from([1, 2]),
                "name": st.sampled_from(COMMANDS) | st.text(max_size=10),
                "options": inner,
            }
        ),
        max_size=2,
    ),
    max_leaves=6,
)


@st.composite
def interactions(draw: st.DrawFn) -> dict[str, Any]:
    """An INTERACTION_CREATE payload: discord.py's envelope as Discord sends it, its `data` anything."""
    kind = draw(st.sampled_from(["command", "autocomplete", "button"]))
    permissions = draw(st.sampled_from([0, 16]))
    if kind == "button":
        custom_id = draw(
            st.tuples(st.sampled_from(COMMANDS), st.lists(hostile_text, max_size=3)).map(lambda t: _action_id(*t))
            | st.text(max_size=100)
        )
        return fd.button(custom_id[:100], permissions=permissions)
    command = draw(st.sampled_from(COMMANDS) | st.text(max_size=10))
    payload = fd.slash(command, permissions=permissions) if kind == "command" else fd.autocomplete(command, "x", "")
    payload["data"]["options"] = draw(
        options.map(lambda o: [{"type": 1, "name": command, "options": o}]) | options | json_values
    )
    return payload

"""What reaches `POST /slack/events`, read strictly before anything else touches it. Pure functions.

The headers first: a timestamp of ASCII digits and a small retry number (anything else is a 400), and a
`v0=` signature of 64 hex digits (anything else is refused as unsigned, 401, like a wrong one). Then,
once the body is UTF-8 and the signature holds, the body: a JSON object or a form, and the shape of every field Bolt or
Paperboy reads (`team` is a string or an object with a string `id`, `actions` a list of objects, ...).
A request that fails is `Malformed` (answered 400, one warning line); one that is well formed but not
for Paperboy (an event it does not subscribe to, a view, a shortcut) is routed to `IGNORE` and answered
200, so Slack does not retry it.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot import actions as codec

MAX_RETRY_NUM = 100

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_RETRY_NUM = re.compile(r"[0-9]{1,3}")
_EVENT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")

HANDLED_EVENTS = frozenset(
    {"app_mention", "app_uninstalled", "tokens_revoked", "app_home_opened", "message", "link_shared"}
)
"""The Events API events Paperboy listens to; any other is acknowledged and dropped."""

# Fields that Bolt (its context builders and matchers) or the translators read, by the types they expect.
_TEXT_FIELDS = (
    "type",
    "token",
    "team_id",
    "user_id",
    "channel_id",
    "enterprise_id",
    "api_app_id",
    "event_id",
    "trigger_id",
    "response_url",
    "callback_id",
    "command",
    "user_name",
    "channel_name",
    "action_id",
    "block_id",
    "value",
    "subtype",
    "channel_type",
    "thread_ts",
    "ts",
    "bot_id",
    "user_team",
    "app_installed_team_id",
    "context_team_id",
    "context_enterprise_id",
)
_REFERENCE_FIELDS = ("team", "enterprise", "user", "channel")
"""A string id, or an object whose `id` (and `team_id`, `enterprise_id`) is a string."""
_OBJECT_FIELDS = ("event", "view", "message", "previous_message", "container", "selected_option", "tokens")
_MESSAGE_LIKE = ("body", "event", "message", "previous_message")
"""Where `text` is a message's text; elsewhere (a button's label) it is an object."""
_MAX_DEPTH = 3


class Malformed(ValueError):
    """A request Paperboy cannot read: answered 400, logged as one line."""


class Route(enum.Enum):
    BOLT = "bolt"
    """Paperboy's: a slash command, a handled event, one of its buttons, Slack's URL check."""
    IGNORE = "ignore"
    """Well formed and not for Paperboy: acknowledged (200) and dropped."""


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    timestamp: str
    signature: str
    retry_num: int | None = None
    retry_reason: str = ""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return None if value is None else str(value)


def signed_headers(headers: Mapping[str, str]) -> SignedHeaders | None:
    """The signing headers; None when one is missing or the signature is not one (401: unauthenticated);
    `Malformed` (400) for a timestamp or retry number that is not what Slack sends."""
    timestamp = _header(headers, "X-Slack-Request-Timestamp")
    signature = _header(headers, "X-Slack-Signature")
    if not timestamp or not signature:
        return None
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Malformed("an X-Slack-Request-Timestamp that is not a number of seconds")
    if not _SIGNATURE.fullmatch(signature):
        return None  # not a signature Slack makes: refused as unsigned (401), like a wrong one
    retry = _header(headers, "X-Slack-Retry-Num")
    if retry is not None and not _RETRY_NUM.fullmatch(retry):
        raise Malformed("an X-Slack-Retry-Num that is not a small number")
    reason = (_header(headers, "X-Slack-Retry-Reason") or "")[:40]
    return SignedHeaders(timestamp, signature, None if retry is None else int(retry), reason)


def decode(raw: bytes) -> str:
    """The body as text: Slack sends UTF-8, and the signature is checked over that text."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("a body that is not UTF-8") from None


def parse_body(text: str, content_type: str) -> dict[str, Any]:
    """The request body as Slack meant it: a JSON object, a slash command's form, or an interaction's
    `payload=` form holding a JSON object."""
    if content_type == "application/json":
        return _object(_json(text), "the JSON body")
    if content_type != "application/x-www-form-urlencoded":
        raise Malformed(f"a body of type {content_type[:60]!r}")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise Malformed("a form body that does not parse") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise Malformed("a form with a field twice")
    if "payload" in form:
        if len(form) != 1:
            raise Malformed("an interaction form with fields beside its payload")
        return _object(_json(form["payload"]), "the interaction payload")
    if "command" not in form and "ssl_check" not in form:
        raise Malformed("a form that is neither a slash command nor an interaction")
    return form


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise Malformed("JSON that does not parse") from None


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not an object")
    check_shape(value)
    return value


def check_shape(body: Mapping[str, Any], where: str = "body", depth: int = 0) -> None:
    """Every field Bolt or the translators read has the type they expect (recursively, in the objects
    they descend into), so neither can fail on a payload with a string where an object belongs."""
    own = where.rsplit(".", 1)[-1]
    fields = (*_TEXT_FIELDS, "text") if own in _MESSAGE_LIKE else _TEXT_FIELDS
    for name in fields:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise Malformed(f"{where}.{name} is not text")
    for name in _REFERENCE_FIELDS:
        value = body.get(name)
        if value is None or isinstance(value, str):
            continue
        if not isinstance(value, dict):
            raise Malformed(f"{where}.{name} is neither an id nor an object")
        for key in ("id", "team_id", "enterprise_id", "name", "username", "domain"):
            if value.get(key) is not None and not isinstance(value[key], str):
                raise Malformed(f"{where}.{name}.{key} is not text")
    for flag in ("is_enterprise_install", "is_ext_shared_channel"):
        if body.get(flag) is not None and not isinstance(body[flag], bool | str):
            raise Malformed(f"{where}.{flag} is not a flag")
    nested = [(name, body.get(name)) for name in _OBJECT_FIELDS]
    for list_name in ("authorizations", "actions"):
        items = body.get(list_name)
        if items is None:
            continue
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise Malformed(f"{where}.{list_name} is not a list of objects")
        nested.extend((f"{list_name}[{i}]", item) for i, item in enumerate(items[:5]))
    for name, value in nested:
        if value is None:
            continue
        if not isinstance(value, dict):
            raise Malformed(f"{where}.{name} is not an object")
        if depth < _MAX_DEPTH:
            check_shape(value, f"{where}.{name}", depth + 1)


def _check_response_url(body: Mapping[str, Any]) -> None:
    """Replies are posted to a command's `response_url`: it must be a web address."""
    url = body.get("response_url")
    if url is None:
        return
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError:
        raise Malformed("a response_url that is not a web address") from None
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 2000:
        raise Malformed("a response_url that is not a web address")


def route(body: Mapping[str, Any], command: str) -> tuple[Route, str]:
    """Whether Bolt should see `body` (a shape-checked body), and what it is, for the logs."""
    _check_response_url(body)
    kind = body.get("type")
    if "ssl_check" in body and "command" not in body:
        return Route.IGNORE, "ssl_check"  # Slack checking the certificate: a 200 is the whole answer
    if "command" in body and kind is None:
        name = str(body.get("command"))
        return (Route.BOLT if name == command else Route.IGNORE), f"slash command {name[:40]}"
    if kind == "url_verification":
        if not isinstance(body.get("challenge"), str):
            raise Malformed("a url_verification without a challenge")
        return Route.BOLT, "url_verification"
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise Malformed("an event_callback without an event")
        event_id = body.get("event_id")
        if event_id is not None and not _EVENT_ID.fullmatch(event_id):
            raise Malformed("an event_id that is not an id")
        name = event["type"]
        return (Route.BOLT if name in HANDLED_EVENTS else Route.IGNORE), f"event {name[:40]}"
    if kind == "block_actions":
        actions = body.get("actions")
        if not actions:
            raise Malformed("a block_actions without actions")
        action_id = actions[0].get("action_id")
        if not isinstance(action_id, str):
            raise Malformed("a block_actions without an action_id")
        return (Route.BOLT if codec.ID_PATTERN.match(action_id) else Route.IGNORE), f"action {action_id[:60]}"
    if isinstance(kind, str) and kind:
        return Route.IGNORE, kind[:40]  # views, shortcuts, options, and what Slack adds later
    raise Malformed("a body without a type")


def event_id(body: Mapping[str, Any]) -> str | None:
    """The Events API id of an event delivery (the same on every retry of it), if it has one."""
    value = body.get("event_id") if body.get("type") == "event_callback" else None
    return value if isinstance(value, str) and _EVENT_ID.fullmatch(value) else None

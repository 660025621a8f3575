"""Hostile requests at `POST /slack/events`, through the real Bolt app: 400 or 200, never 500 or a traceback.

Malformed requests get 400 and one warning line; requests Paperboy does not handle get 200 with nothing
done (Slack retries anything else); retries and replays run nothing twice.
"""

from __future__ import annotations

import json

import pytest

from tests.fakes.slack import (
    FORM,
    SECRET,
    FakeCore,
    FakeSlack,
    ServeFactory,
    action_form,
    action_payload,
    form,
    mention_event,
    signed_headers,
    slash_body,
    wait_for,
)

JSON = "application/json"


pytestmark = pytest.mark.usefixtures("no_tracebacks")


async def test_a_timestamp_that_is_no_number_is_a_400_before_the_signature(serve_http: ServeFactory) -> None:
    served = await serve_http()
    for timestamp in ("²", "١٧٠٠٠٠٠٠٠٠", "1e9", "-1", "9" * 40, ""):
        headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}
        resp = await served.post("{}", content_type=JSON, headers=headers)
        assert resp.status == (401 if timestamp == "" else 400), timestamp
    signed = signed_headers(SECRET, "{}")
    resp = await served.post("{}", content_type=JSON, headers={**signed, "X-Slack-Retry-Num": "¹"})
    assert resp.status == 400


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", JSON),
        (b"[1,2]", JSON),
        (b"null", JSON),
        (b'"text"', JSON),
        (b"payload=%7Bbad", FORM),
        (b"payload=[1]", FORM),
        (b"payload=%7B%7D&command=%2Fpapers", FORM),
        (b"text=\xff\xfe&command=%2Fpapers", FORM),
        (b"text=%FF%FE&command=%2Fpapers", FORM),
        (b"command=%2Fpapers&command=%2Fpapers", FORM),
        (b"just words", FORM),
        (b"\xff\xfe", JSON),
        (b'{"type": "event_callback", "event": "app_mention"}', JSON),
        (b'{"type": "event_callback", "event": {"type": 7}}', JSON),
        (b'{"type": "event_callback", "event_id": "Ev 1", "event": {"type": "app_mention"}}', JSON),
        (b'{"type": "block_actions", "actions": []}', JSON),
        (b'{"type": "block_actions", "actions": ["pb:today"]}', JSON),
        (b'{"type": "block_actions", "actions": [{"action_id": 5}]}', JSON),
        (b'{"type": "block_actions", "team": 5, "actions": [{"action_id": "pb:today"}]}', JSON),
        (b'{"type": "event_callback", "authorizations": "x", "event": {"type": "app_mention"}}', JSON),
        (b'{"type": "event_callback", "event": {"type": "app_mention", "user": 5}}', JSON),
        (b'{"type": "url_verification"}', JSON),
        (b'{"type": "block_actions", "response_url": "0", "actions": [{"action_id": "pb:today"}]}', JSON),
        (b'{"type": "block_actions", "response_url": "ftp://x", "actions": [{"action_id": "pb:today"}]}', JSON),
        (b'{"token": "x"}', JSON),
        (b"<xml/>", "application/xml"),
    ],
)
async def test_signed_but_malformed_bodies_get_400(
    serve_http: ServeFactory, core: FakeCore, body: bytes, content_type: str
) -> None:
    served = await serve_http()
    headers = {"Content-Type": content_type, **signed_headers(SECRET, body)}
    async with served.session.post(served.url + "slack/events", data=body, headers=headers) as resp:
        assert resp.status == 400, await resp.text()
    assert core.invocations == []


async def test_what_paperboy_does_not_handle_gets_200_and_nothing_done(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory
) -> None:
    served = await serve_http()
    unhandled = [
        {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": "U1"}, "view": {"callback_id": "nope"}},
        {"type": "view_closed", "view": {"callback_id": "nope"}},
        {"type": "shortcut", "callback_id": "nope", "team": {"id": "T1"}},
        {"type": "block_suggestion", "action_id": "nope"},
        {"type": "some_future_type"},
        {"type": "event_callback", "team_id": "T1", "event_id": "EvX1", "event": {"type": "message", "text": "hi"}},
        {"type": "app_rate_limited", "team_id": "T1", "minute_rate_limited": 1518467820},
    ]
    for body in unhandled:
        resp = await served.post(json.dumps(body), content_type=JSON)
        assert resp.status == 200, body
    foreign = action_payload(fake, "someone_elses_button", "1")
    resp = await served.post(action_form(foreign), content_type=FORM)
    assert resp.status == 200
    other_command = form({**slash_body(fake, "today"), "command": "/other"})
    resp = await served.post(other_command, content_type=FORM)
    assert resp.status == 200
    resp = await served.post("ssl_check=1&token=x", content_type=FORM)
    assert resp.status == 200
    assert core.invocations == [] and fake.responses == [] and fake.posts == []


async def test_a_retried_event_runs_once(fake: FakeSlack, core: FakeCore, serve_http: ServeFactory) -> None:
    served = await serve_http()
    event = json.dumps(mention_event("today", event_id="Ev0RETRIED1"))
    assert (await served.post(event, content_type=JSON)).status == 200
    await wait_for(lambda: len(fake.posts) == 1, what="the mention's reply")
    for attempt in (1, 2, 3):
        # A retry is a new request (a new timestamp, a new signature) carrying the same event id.
        retry = json.dumps({**json.loads(event), "event_time": 1515449522 + attempt})
        headers = {**signed_headers(SECRET, retry), "X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "x"}
        assert (await served.post(retry, content_type=JSON, headers=headers)).status == 200
    other = json.dumps(mention_event("today", event_id="Ev0OTHER01"))
    assert (await served.post(other, content_type=JSON)).status == 200
    await wait_for(lambda: len(fake.posts) == 2, what="the second event's reply")
    assert len(core.invocations) == 2


async def test_a_replayed_request_runs_once(fake: FakeSlack, core: FakeCore, serve_http: ServeFactory) -> None:
    served = await serve_http()
    body = form(slash_body(fake, "today"))
    headers = signed_headers(SECRET, body)
    for _ in range(3):
        assert (await served.post(body, content_type=FORM, headers=headers)).status == 200
    press = action_form(action_payload(fake, "pb:similar:2411.10001", ""))
    press_headers = signed_headers(SECRET, press)
    for _ in range(2):
        assert (await served.post(press, content_type=FORM, headers=press_headers)).status == 200
    await wait_for(lambda: len(fake.responses) == 2, what="one reply to each request")
    assert sorted(inv.command or inv.text for inv in core.invocations) == ["similar", "today"]


async def test_a_command_whose_text_says_payload_is_still_a_command(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory
) -> None:
    served = await serve_http()
    resp = await served.post(form(slash_body(fake, "search payload")), content_type=FORM)
    assert resp.status == 200
    await wait_for(lambda: len(core.invocations) == 1, what="the command")
    assert core.invocations[0].text == "search payload"

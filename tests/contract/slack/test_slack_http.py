"""HTTP mode: signed requests through the real Bolt app into the adapter, replies at the fake Slack."""

from __future__ import annotations

import json
import time

from slack_sdk.signature import SignatureVerifier

from adapters.slack import render as slack_render
from bot.config import SlackPermissionRule
from bot.types import PaperList
from tests.fakes.slack import (
    EXPORTED,
    SECRET,
    FakeCore,
    FakeSlack,
    ServeFactory,
    action_form,
    action_payload,
    form,
    home_opened_event,
    im_event,
    listed,
    mention_event,
    overflow_payload,
    signed_headers,
    slash_body,
    wait_for,
)
from tests.shared_data import SAMPLES

FORM = "application/x-www-form-urlencoded"


def test_official_signing_vector_verifies() -> None:
    vector = json.loads((SAMPLES / "slack_signing_vector.json").read_text())
    body = (SAMPLES / vector["body_file"]).read_text()
    verifier = SignatureVerifier(
        vector["signing_secret"], clock=_FixedSecondClock(int(vector["x_slack_request_timestamp"]))
    )
    assert verifier.is_valid(body, vector["x_slack_request_timestamp"], vector["x_slack_signature"])
    assert not verifier.is_valid(body + "x", vector["x_slack_request_timestamp"], vector["x_slack_signature"])
    ours = signed_headers(vector["signing_secret"], body, timestamp=int(vector["x_slack_request_timestamp"]))
    assert ours["X-Slack-Signature"] == vector["x_slack_signature"]


class _FixedSecondClock:
    def __init__(self, now: int) -> None:
        self._now = now

    def now(self) -> float:
        return float(self._now)


async def test_a_slow_command_is_acked_in_time_and_answered_in_channel(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory
) -> None:
    served = await serve_http()
    started = time.monotonic()
    resp = await served.post(form(slash_body(fake, "slow")), content_type=FORM)
    assert resp.status == 200
    # The ack waits for the reply only as long as its budget (1 s), well inside Slack's 3 s.
    assert time.monotonic() - started < 3.0, "ack must not wait for the command"
    assert not fake.responses
    core.release.set()
    await wait_for(lambda: len(fake.responses) == 1, what="the reply of a slow command")
    assert fake.responses[0][1]["text"] == "finally"
    assert fake.responses[0][1]["response_type"] == "in_channel"
    assert fake.ack_answers == [], "a reply later than the budget goes through response_url"


async def test_a_ready_reply_rides_in_the_ack(fake: FakeSlack, serve_http: ServeFactory) -> None:
    served = await serve_http()
    body = form(slash_body(fake, "today"))
    headers = {"Content-Type": FORM, **signed_headers(SECRET, body)}
    async with served.session.post(served.url + "slack/events", data=body.encode(), headers=headers) as resp:
        assert resp.status == 200
        answer = json.loads(await resp.read())
    assert answer["response_type"] == "in_channel"
    assert "Top papers of Thu 27 Nov" in answer["text"] and answer["blocks"]
    await served.adapter.stop()  # every task finished: nothing was left to POST
    assert fake.responses == [], "answered in the ack: no second request to response_url"


async def test_an_error_answered_in_the_ack_stays_ephemeral(fake: FakeSlack, serve_http: ServeFactory) -> None:
    served = await serve_http()
    await served.post(form(slash_body(fake, "nonsense")), content_type=FORM)
    assert len(fake.ack_answers) == 1
    _, answer = fake.ack_answers[0]
    assert answer["response_type"] == "ephemeral" and "Unknown subcommand" in answer["text"]


async def test_several_replies_all_go_through_response_url_in_order(fake: FakeSlack, serve_http: ServeFactory) -> None:
    served = await serve_http()
    await served.post(form(slash_body(fake, "twice")), content_type=FORM)
    await wait_for(lambda: len(fake.responses) == 2, what="both replies")
    assert fake.ack_answers == []
    assert [p["text"] for _, p in fake.responses] == ["first", "second"]


async def test_a_budget_of_zero_answers_through_response_url(fake: FakeSlack, serve_http: ServeFactory) -> None:
    served = await serve_http()
    served.adapter._ack_answer_budget = 0.0
    await served.post(form(slash_body(fake, "today")), content_type=FORM)
    await wait_for(lambda: len(fake.responses) == 1, what="the reply")
    assert fake.ack_answers == []


async def test_subcommands_reply_with_rendered_messages(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory
) -> None:
    served = await serve_http()
    for text in ("today 3", "topics", "status", "paper 2411.10001", "todya"):
        resp = await served.post(form(slash_body(fake, text)), content_type=FORM)
        assert resp.status == 200
    await wait_for(lambda: len(fake.responses) == 5, what="five replies")
    by_hook = {hook: payload for hook, payload in fake.responses}
    today = by_hook["T1-C1-today_3"]
    assert today["response_type"] == "in_channel"
    assert today["blocks"][0]["type"] == "header" and "2411.10000" in json.dumps(today["blocks"])
    assert "&lt;b&gt;mixture&lt;/b&gt;" in json.dumps(today["blocks"]), "paper text is escaped"
    assert "Unsubscribe" in json.dumps(by_hook["T1-C1-topics"]["blocks"])
    error = by_hook["T1-C1-todya"]
    assert error["response_type"] == "ephemeral" and error["text"].startswith("⚠️")
    inv = core.invocations[0]
    assert inv.channel.key == "slack:T1:C1" and inv.text == "today 3"
    assert inv.permission.can_manage_channel and inv.permission.who_can == "everyone"
    assert not fake.calls_of("users.info"), "the everyone rule needs no lookup"


async def test_private_digest_preview_is_ephemeral(fake: FakeSlack, serve_http: ServeFactory) -> None:
    served = await serve_http()
    await served.post(form(slash_body(fake, "digest preview")), content_type=FORM)
    await wait_for(lambda: len(fake.responses) == 1, what="the preview")
    assert fake.responses[0][1]["response_type"] == "ephemeral"
    assert not fake.posts


async def test_long_public_digest_goes_to_channel_with_thread_replies(
    fake: FakeSlack, serve_http: ServeFactory
) -> None:
    served = await serve_http()
    await served.post(form(slash_body(fake, "digest big")), content_type=FORM)
    await wait_for(lambda: len(fake.posts) == 3, what="a digest and its thread replies")
    first, *replies = fake.posts
    assert first.thread_ts is None and first.channel == "C1"
    assert all(r.thread_ts == first.ts for r in replies)
    assert sum(1 for p in fake.posts for b in p.blocks if "accessory" in b) == 25


async def test_unexpected_core_error_gets_a_generic_private_reply(fake: FakeSlack, serve_http: ServeFactory) -> None:
    served = await serve_http()
    await served.post(form(slash_body(fake, "boom")), content_type=FORM)
    await wait_for(lambda: len(fake.responses) == 1, what="the generic error")
    payload = fake.responses[0][1]
    assert payload["response_type"] == "ephemeral"
    assert "xoxb" not in json.dumps(payload) and "RuntimeError" not in json.dumps(payload)


async def test_bad_missing_and_stale_signatures_are_refused(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory
) -> None:
    served = await serve_http()
    body = form(slash_body(fake, "today"))
    bad = signed_headers("not-the-secret", body)
    stale = signed_headers(SECRET, body, timestamp=int(time.time()) - 301)
    for headers in (bad, {}, stale, {**signed_headers(SECRET, body), "X-Slack-Signature": "v0=00"}):
        resp = await served.post(body, content_type=FORM, headers=headers)
        assert resp.status == 401
    tampered = signed_headers(SECRET, body)
    resp = await served.post(body.replace("today", "topics"), content_type=FORM, headers=tampered)
    assert resp.status == 401
    assert core.invocations == [] and fake.responses == []


async def test_app_mention_replies_via_web_api(fake: FakeSlack, core: FakeCore, serve_http: ServeFactory) -> None:
    served = await serve_http()
    resp = await served.post(json.dumps(mention_event("today")), content_type="application/json")
    assert resp.status == 200
    await wait_for(lambda: len(fake.posts) == 1, what="the mention's reply")
    assert core.invocations[0].text == "today"
    assert fake.posts[0].channel == "C1" and fake.posts[0].token == "xoxb-t1-token"
    await served.post(json.dumps(mention_event("nonsense")), content_type="application/json")
    await wait_for(lambda: len(fake.ephemerals) == 1, what="a private error as an ephemeral")
    assert fake.ephemerals[0].user == "U1"


async def test_buttons_run_their_commands(fake: FakeSlack, core: FakeCore, serve_http: ServeFactory) -> None:
    served = await serve_http()
    more = action_payload(fake, "paperboy_more_like_this:2411.10001", "2411.10001")
    unsub = action_payload(fake, "paperboy_unsubscribe:7", "7")
    for payload in (more, unsub):
        resp = await served.post(action_form(payload), content_type=FORM)
        assert resp.status == 200
    await wait_for(lambda: len(fake.responses) == 2, what="two button replies")
    texts = sorted(inv.text for inv in core.invocations)
    assert texts == ["similar 2411.10001", "unsubscribe 7"]
    by_hook = dict(fake.responses)
    assert by_hook["action-2411.10001"]["response_type"] == "ephemeral"
    assert by_hook["action-2411.10001"]["replace_original"] is False
    assert by_hook["action-7"]["response_type"] == "in_channel"


async def test_admin_rule_looks_up_users_once(fake: FakeSlack, core: FakeCore, serve_http: ServeFactory) -> None:
    fake.add_user("UADMIN", admin=True)
    fake.add_user("UPLAIN")
    served = await serve_http(permission=SlackPermissionRule.ADMINS)
    for n, user in enumerate(("UADMIN", "UPLAIN", "UADMIN"), start=1):
        await served.post(form(slash_body(fake, f"subscribe moe {user}", user=user)), content_type=FORM)
        await wait_for(lambda n=n: len(core.invocations) == n, what="the command")
    perms = [(inv.user.user_id, inv.permission) for inv in core.invocations]
    assert perms[0][1].can_manage_channel and not perms[1][1].can_manage_channel
    assert perms[1][1].who_can == "workspace admins and owners"
    assert len(fake.calls_of("users.info")) == 2, "cached for the second UADMIN command"


async def test_allowlist_rule(fake: FakeSlack, core: FakeCore, serve_http: ServeFactory) -> None:
    served = await serve_http(permission=SlackPermissionRule.ALLOWLIST, allowed_users=["UOK"])
    for user in ("UOK", "UNO"):
        await served.post(form(slash_body(fake, "subscribe moe", user=user)), content_type=FORM)
    await wait_for(lambda: len(core.invocations) == 2, what="two commands")
    perms = {inv.user.user_id: inv.permission for inv in core.invocations}
    assert perms["UOK"].can_manage_channel and not perms["UNO"].can_manage_channel
    assert perms["UNO"].who_can == "the users on Paperboy's allow-list"
    assert not fake.calls_of("users.info")


async def test_admin_rule_fails_closed_when_users_info_fails(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory
) -> None:
    served = await serve_http(permission=SlackPermissionRule.ADMINS)
    await served.post(form(slash_body(fake, "subscribe moe", user="UNKNOWN")), content_type=FORM)
    await wait_for(lambda: len(fake.responses) == 1, what="the reply")
    assert not core.invocations[0].permission.can_manage_channel, "no lookup, no management"


async def test_url_verification_challenge(serve_http: ServeFactory) -> None:
    served = await serve_http()
    body = json.dumps(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}
    )
    async with served.session.post(
        served.url + "slack/events",
        data=body,
        headers={"Content-Type": "application/json", **signed_headers(SECRET, body)},
    ) as resp:
        assert resp.status == 200
        assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in await resp.text()


async def test_vote_options_of_a_rendered_paper_run_like_and_dislike_privately(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory
) -> None:
    served = await serve_http()
    (post,) = slack_render.render(PaperList("Top papers", (listed(1),)))
    (menu,) = [b["accessory"] for b in post.blocks if b.get("accessory", {}).get("type") == "overflow"]
    paper_id = listed(1).paper.id
    for chosen in (f"pb:like:{paper_id}", f"pb:dislike:{paper_id}"):
        resp = await served.post(action_form(overflow_payload(fake, menu, chosen)), content_type=FORM)
        assert resp.status == 200
    await wait_for(lambda: len(fake.responses) == 2, what="two vote replies")
    assert [(i.command, i.args) for i in core.invocations] == [("like", (paper_id,)), ("dislike", (paper_id,))]
    assert all(body["response_type"] == "ephemeral" for _, body in fake.responses), "a vote is acknowledged privately"
    assert all(body["replace_original"] is False for _, body in fake.responses), "the channel's message is kept"


async def test_commands_typed_in_the_messages_tab_are_answered_in_the_dm(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory
) -> None:
    served = await serve_http()
    resp = await served.post(json.dumps(im_event("today 3")), content_type="application/json")
    assert resp.status == 200
    await wait_for(lambda: len(fake.posts) == 1, what="the DM's reply")
    (invocation,) = core.invocations
    assert (invocation.text, invocation.is_direct_message, invocation.channel.channel_id) == ("today 3", True, "D1")
    assert fake.posts[0].channel == "D1"
    # A private reply (an error) is posted in the DM itself, where only that user reads it.
    await served.post(json.dumps(im_event("nonsense")), content_type="application/json")
    await wait_for(lambda: len(fake.posts) == 2, what="the error in the DM")
    assert fake.ephemerals == []
    # Paperboy's own messages in the DM come back as message.im: they run nothing.
    await served.post(json.dumps(im_event("today", bot=True)), content_type="application/json")
    await served.post(json.dumps(mention_event("help")), content_type="application/json")
    await wait_for(lambda: len(core.invocations) == 3, what="the mention after the bot's message")
    assert [i.text for i in core.invocations] == ["today 3", "nonsense", "help"]


async def test_opening_the_home_tab_publishes_the_how_to(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory
) -> None:
    served = await serve_http()
    resp = await served.post(json.dumps(home_opened_event(user="U7")), content_type="application/json")
    assert resp.status == 200
    await wait_for(lambda: len(fake.home_views) == 1, what="views.publish")
    user, view = fake.home_views[0]
    assert user == "U7" and view["type"] == "home"
    text = json.dumps(view)
    assert "Messages" in text and "subscribe" in text and "why" in text
    # The Messages tab opening is not the Home tab: nothing is published for it.
    # The person's follows come from the core's `following`; this core has none to give (an error reply).
    assert [(i.command, i.channel.dm_user) for i in core.invocations] == [("following", "U7")]
    await served.post(json.dumps(home_opened_event(user="U7", tab="messages")), content_type="application/json")
    await served.post(json.dumps(mention_event("help")), content_type="application/json")
    await wait_for(lambda: len(core.invocations) == 2, what="a later event")
    assert len(fake.home_views) == 1


async def test_export_uploads_the_file_to_the_channel(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory
) -> None:
    served = await serve_http()
    resp = await served.post(form(slash_body(fake, "export bibtex")), content_type=FORM)
    assert resp.status == 200
    await wait_for(lambda: len(fake.files) == 1, what="files.uploadV2 completing")
    [upload] = fake.files
    assert upload["channel"] == "C1"
    assert upload["comment"] == "📎 3 papers from this channel's library, BibTeX."
    [file] = upload["files"]
    assert file["title"] == "paperboy-library.bib"
    assert file["data"].decode() == EXPORTED
    assert [c.token for c in fake.calls if c.method.startswith("files.")] == ["xoxb-t1-token"] * 2
    assert fake.responses == [], "the file is the reply"

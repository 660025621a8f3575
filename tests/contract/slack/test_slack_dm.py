"""A person's direct messages (`ChannelRef.dm`): the real AsyncWebClient opens their IM, then posts there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from pydantic import SecretStr

from adapters.slack.adapter import SlackAdapter
from bot.clock import FixedClock
from bot.config import SlackSettings
from bot.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.types import ChannelRef, Platform, TextReply
from tests.fakes.slack import NOW, FakeSlack, digest

ADA = ChannelRef.dm(Platform.SLACK, "T1", "U1")


@pytest.fixture
async def adapter(fake: FakeSlack) -> AsyncIterator[SlackAdapter]:
    fake.add_user("U1")
    settings = SlackSettings(bot_token=SecretStr("xoxb-t1-token"), signing_secret=SecretStr("s"), api_url=fake.api_url)
    slack = SlackAdapter(settings, web_app=web.Application(), clock=FixedClock(NOW), min_post_interval=0.05)
    yield slack
    await slack.stop()


def marker(delivery_id: str, part: int) -> dict[str, object]:
    return {"event_type": "paperboy_delivery", "event_payload": {"delivery_id": delivery_id, "part": part}}


async def test_a_digest_to_a_person_opens_their_im_once_and_posts_there(fake: FakeSlack, adapter: SlackAdapter) -> None:
    sent = await adapter.send(ADA, digest(25), delivery_id="dlv-dm")
    im = fake.im_of("U1")
    assert im is not None and im.startswith("D")
    first, *replies = fake.posts
    assert all(p.channel == im for p in fake.posts), "every part lands in the person's IM"
    assert first.metadata == marker("dlv-dm", 0) and sent.message_id == first.ts
    assert replies and all(r.thread_ts == first.ts for r in replies)
    assert [r.metadata for r in replies] == [marker("dlv-dm", i) for i in range(1, len(replies) + 1)]
    await adapter.send(ADA, TextReply("tomorrow's"), delivery_id="dlv-dm-2")
    [opened] = fake.calls_of("conversations.open")
    assert opened.args["users"] == "U1" and opened.token == "xoxb-t1-token"
    assert fake.posts[-1].channel == im


async def test_find_parts_in_a_persons_im(fake: FakeSlack, adapter: SlackAdapter) -> None:
    since = datetime.now(UTC) - timedelta(hours=1)
    sent = await adapter.send(ADA, digest(25), delivery_id="dlv-found")
    parts = [sent.message_id, *sent.extra_ids]
    assert await adapter.find_parts(ADA, "dlv-found", since, {}) == dict(enumerate(parts))
    assert await adapter.find_parts(ADA, "dlv-unknown", since, {}) == {}
    assert {c.args["channel"] for c in fake.calls_of("conversations.history")} == {fake.im_of("U1")}


async def test_find_parts_after_a_restart_opens_the_im_first(fake: FakeSlack, adapter: SlackAdapter) -> None:
    since = datetime.now(UTC) - timedelta(hours=1)
    sent = await adapter.send(ADA, TextReply("posted before the crash"), delivery_id="dlv-crash")
    settings = SlackSettings(bot_token=SecretStr("xoxb-t1-token"), signing_secret=SecretStr("s"), api_url=fake.api_url)
    restarted = SlackAdapter(settings, web_app=web.Application(), clock=FixedClock(NOW))
    try:
        assert await restarted.find_parts(ADA, "dlv-crash", since, {}) == {0: sent.message_id}
    finally:
        await restarted.stop()
    assert len(fake.calls_of("conversations.open")) == 2


@pytest.mark.parametrize("error", ["user_not_found", "user_disabled", "missing_scope"])
async def test_a_refused_im_is_permanent_with_a_reason_the_person_can_act_on(
    fake: FakeSlack, adapter: SlackAdapter, error: str
) -> None:
    if error == "user_not_found":
        fake.users.pop("U1")
    elif error == "user_disabled":
        fake.add_user("U1", deleted=True)
    else:
        fake.open_errors["U1"] = error
    with pytest.raises(PermanentDeliveryError) as err:
        await adapter.send(ADA, TextReply("hello"), delivery_id="dlv-refused")
    assert err.value.reason.startswith(f"Slack would not open a direct message with you: {error}")
    assert "xoxb" not in err.value.reason
    assert not fake.posts and not fake.calls_of("chat.postMessage")


async def test_im_open_errors_that_pass_are_retryable(fake: FakeSlack, adapter: SlackAdapter) -> None:
    fake.fail_next("conversations.open", 3, status=503)
    with pytest.raises(RetryableDeliveryError, match="server error"):
        await adapter.send(ADA, TextReply("hello"))
    assert not fake.posts
    await adapter.send(ADA, TextReply("hello"))
    assert [p.channel for p in fake.posts] == [fake.im_of("U1")]


async def test_an_im_that_stops_working_is_opened_again(fake: FakeSlack, adapter: SlackAdapter) -> None:
    await adapter.send(ADA, TextReply("first"))
    im = fake.im_of("U1")
    assert im is not None
    fake.channel_errors[im] = "channel_not_found"
    with pytest.raises(PermanentDeliveryError):
        await adapter.send(ADA, TextReply("second"))
    del fake.channel_errors[im]
    await adapter.send(ADA, TextReply("third"))
    assert len(fake.calls_of("conversations.open")) == 2, "the remembered IM was dropped after the refusal"
    assert [p.text for p in fake.posts] == ["first", "third"]


async def test_a_channel_ref_opens_no_im(fake: FakeSlack, adapter: SlackAdapter) -> None:
    await adapter.send(ChannelRef(Platform.SLACK, "T1", "C1"), TextReply("in the channel"))
    assert not fake.calls_of("conversations.open") and [p.channel for p in fake.posts] == ["C1"]

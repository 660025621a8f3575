"""send() and find_delivery() through the real AsyncWebClient against the fake Web API."""

from __future__ import annotations

import time
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

C1 = ChannelRef(Platform.SLACK, "T1", "C1")


@pytest.fixture
async def adapter(fake: FakeSlack) -> AsyncIterator[SlackAdapter]:
    settings = SlackSettings(bot_token=SecretStr("xoxb-t1-token"), signing_secret=SecretStr("s"), api_url=fake.api_url)
    slack = SlackAdapter(settings, web_app=web.Application(), clock=FixedClock(NOW), min_post_interval=0.2)
    yield slack
    await slack.stop()


async def test_send_marks_the_first_post_and_threads_the_rest(fake: FakeSlack, adapter: SlackAdapter) -> None:
    started = time.monotonic()
    sent = await adapter.send(C1, digest(25), delivery_id="dlv-42")
    elapsed = time.monotonic() - started
    first, *replies = fake.posts
    assert sent.message_id == first.ts and sent.extra_ids == tuple(r.ts for r in replies)
    assert first.metadata == {"event_type": "paperboy_delivery", "event_payload": {"delivery_id": "dlv-42"}}
    assert replies and all(r.thread_ts == first.ts and r.metadata is None for r in replies)
    assert elapsed >= 0.2 * len(replies) * 0.9, "posts to one channel are paced"
    assert all(p.token == "xoxb-t1-token" for p in fake.posts)


async def test_find_delivery(fake: FakeSlack, adapter: SlackAdapter) -> None:
    since = datetime.now(UTC) - timedelta(hours=1)
    await adapter.send(C1, TextReply("unrelated"))
    sent = await adapter.send(C1, digest(2), delivery_id="dlv-1")
    assert await adapter.find_delivery(C1, "dlv-1", since) == sent.message_id
    assert await adapter.find_delivery(C1, "dlv-unknown", since) is None
    assert await adapter.find_delivery(C1, "dlv-1", datetime.now(UTC) + timedelta(hours=1)) is None, "oldest honoured"
    call = fake.calls_of("conversations.history")[-1]
    assert call.args["include_all_metadata"] in ("1", "true", "True")
    assert call.args["limit"] == "200"


async def test_find_delivery_pages_through_history_boundedly(fake: FakeSlack, adapter: SlackAdapter) -> None:
    since = datetime.now(UTC) - timedelta(hours=1)
    sent = await adapter.send(C1, digest(1), delivery_id="dlv-old")
    for i in range(6):
        await adapter.send(C1, TextReply(f"newer {i}"))
    fake.history_page_size = 2
    assert await adapter.find_delivery(C1, "dlv-old", since) == sent.message_id
    assert len(fake.calls_of("conversations.history")) == 4
    fake.history_page_size = 1
    assert await adapter.find_delivery(C1, "dlv-old", since) is None, "gives up after a bounded number of pages"
    assert len(fake.calls_of("conversations.history")) == 4 + 5


async def test_rate_limit_is_retried_after_retry_after(fake: FakeSlack, adapter: SlackAdapter) -> None:
    fake.fail_next("chat.postMessage", 1, status=429, retry_after=1)
    started = time.monotonic()
    sent = await adapter.send(C1, TextReply("hello"))
    assert time.monotonic() - started >= 1.0, "Retry-After was honoured"
    assert len(fake.calls_of("chat.postMessage")) == 2
    assert sent.message_id == fake.posts[0].ts


async def test_rate_limit_after_retries_is_retryable_with_retry_after(fake: FakeSlack, adapter: SlackAdapter) -> None:
    fake.fail_next("chat.postMessage", 3, status=429, retry_after=1)
    with pytest.raises(RetryableDeliveryError) as err:
        await adapter.send(C1, TextReply("hello"))
    assert err.value.retry_after == 1.0
    assert "ratelimited" in err.value.reason
    assert not fake.posts


async def test_a_server_error_is_not_retried_inside_the_adapter(fake: FakeSlack, adapter: SlackAdapter) -> None:
    # Slack may have posted before answering 500: the Deliverer looks for the marker before any retry.
    fake.fail_next("chat.postMessage", 1, status=500)
    with pytest.raises(RetryableDeliveryError, match="server error"):
        await adapter.send(C1, TextReply("hello"), delivery_id="d1")
    assert len(fake.calls_of("chat.postMessage")) == 1
    await adapter.send(C1, TextReply("hello"), delivery_id="d1")
    assert len(fake.posts) == 1


async def test_persistent_server_errors_are_retryable(fake: FakeSlack, adapter: SlackAdapter) -> None:
    fake.fail_next("chat.postMessage", 5, status=500)
    with pytest.raises(RetryableDeliveryError, match="server error"):
        await adapter.send(C1, TextReply("hello"))


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("is_archived", "the channel was archived"),
        ("channel_not_found", "not found"),
        ("not_in_channel", "not a member"),
        ("token_revoked", "revoked"),
        ("missing_scope", "permission"),
    ],
)
async def test_permanent_errors(fake: FakeSlack, adapter: SlackAdapter, code: str, words: str) -> None:
    fake.channel_errors["C9"] = code
    with pytest.raises(PermanentDeliveryError) as err:
        await adapter.send(ChannelRef(Platform.SLACK, "T1", "C9"), TextReply("hello"))
    assert err.value.reason.startswith("Slack says") and words in err.value.reason and f"({code})" in err.value.reason
    assert "xoxb" not in err.value.reason


async def test_unreachable_slack_is_retryable(adapter: SlackAdapter, fake: FakeSlack) -> None:
    await fake.stop()
    with pytest.raises(RetryableDeliveryError):
        await adapter.send(C1, TextReply("hello"))

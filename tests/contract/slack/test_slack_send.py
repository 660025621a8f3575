"""send() part by part and find_parts() through the real AsyncWebClient against the fake Web API."""

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
from bot.types import ArtifactKind, ChannelRef, FollowUp, Platform, TextReply
from tests.fakes.slack import NOW, FakeSlack, digest

C1 = ChannelRef(Platform.SLACK, "T1", "C1")


@pytest.fixture
async def adapter(fake: FakeSlack) -> AsyncIterator[SlackAdapter]:
    settings = SlackSettings(bot_token=SecretStr("xoxb-t1-token"), signing_secret=SecretStr("s"), api_url=fake.api_url)
    slack = SlackAdapter(settings, web_app=web.Application(), clock=FixedClock(NOW), min_post_interval=0.2)
    yield slack
    await slack.stop()


def marker(delivery_id: str, part: int) -> dict[str, object]:
    return {"event_type": "paperboy_delivery", "event_payload": {"delivery_id": delivery_id, "part": part}}


async def test_send_marks_every_part_and_threads_the_rest(fake: FakeSlack, adapter: SlackAdapter) -> None:
    landed: list[tuple[int, str]] = []

    async def record(position: int, ts: str) -> None:
        landed.append((position, ts))

    started = time.monotonic()
    sent = await adapter.send(C1, digest(25), delivery_id="dlv-42", on_part=record)
    elapsed = time.monotonic() - started
    first, *replies = fake.posts
    assert sent.message_id == first.ts and sent.extra_ids == tuple(r.ts for r in replies)
    assert first.metadata == marker("dlv-42", 0)
    assert replies and all(r.thread_ts == first.ts for r in replies)
    assert [r.metadata for r in replies] == [marker("dlv-42", i) for i in range(1, len(replies) + 1)]
    assert landed == [(i, p.ts) for i, p in enumerate(fake.posts)], "each part reported as it lands"
    assert elapsed >= 0.2 * len(replies) * 0.9, "posts to one channel are paced"
    assert all(p.token == "xoxb-t1-token" for p in fake.posts)


async def test_send_posts_only_the_parts_not_yet_posted_under_the_first(fake: FakeSlack, adapter: SlackAdapter) -> None:
    whole = digest(25)
    sent = await adapter.send(C1, whole, delivery_id="dlv-7")
    first, second, *_ = fake.posts
    fake.posts[:] = fake.posts[:2]  # as if the process died after the first reply
    resumed = await adapter.send(C1, whole, delivery_id="dlv-7", posted={0: first.ts, 1: second.ts})
    assert resumed.message_id == first.ts and len(resumed.extra_ids) == len(sent.extra_ids)
    assert [p.metadata["event_payload"]["part"] for p in fake.posts] == list(range(len(sent.extra_ids) + 1))  # type: ignore[index]
    assert all(p.thread_ts == first.ts for p in fake.posts[1:])


async def test_a_failing_reply_raises_after_reporting_what_landed(fake: FakeSlack, adapter: SlackAdapter) -> None:
    landed: dict[int, str] = {}

    async def record(position: int, ts: str) -> None:
        landed[position] = ts

    fake.fail_next("chat.postMessage", 1, status=500, after=1)  # the channel message lands, the first reply fails
    with pytest.raises(RetryableDeliveryError, match="server error"):
        await adapter.send(C1, digest(25), delivery_id="dlv-9", on_part=record)
    assert landed == {0: fake.posts[0].ts} and len(fake.posts) == 1
    # The retry posts only what is missing, under the first part.
    sent = await adapter.send(C1, digest(25), delivery_id="dlv-9", posted=landed, on_part=record)
    assert sent.message_id == fake.posts[0].ts and len(fake.posts) == 1 + len(sent.extra_ids)
    assert sorted(landed) == list(range(len(fake.posts)))


async def test_find_parts_reads_the_channel_and_the_thread(fake: FakeSlack, adapter: SlackAdapter) -> None:
    since = datetime.now(UTC) - timedelta(hours=1)
    await adapter.send(C1, TextReply("unrelated"))
    sent = await adapter.send(C1, digest(25), delivery_id="dlv-1")
    parts = [sent.message_id, *sent.extra_ids]
    assert await adapter.find_parts(C1, "dlv-1", since, {}) == dict(enumerate(parts))
    assert await adapter.find_parts(C1, "dlv-1", since, {0: sent.message_id}) == dict(enumerate(parts))
    assert await adapter.find_parts(C1, "dlv-unknown", since, {}) == {}
    late = datetime.now(UTC) + timedelta(hours=1)
    assert await adapter.find_parts(C1, "dlv-1", late, {}) == {}, "oldest honoured"
    call = fake.calls_of("conversations.history")[-1]
    assert call.args["include_all_metadata"] in ("1", "true", "True")
    assert call.args["limit"] == "200"
    replies = fake.calls_of("conversations.replies")[-1]
    assert replies.args["ts"] == sent.message_id and replies.args["include_all_metadata"] in ("1", "true", "True")


async def test_a_channel_message_from_before_numbered_parts_is_part_zero(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    since = datetime.now(UTC) - timedelta(hours=1)
    await adapter.send(C1, digest(2), delivery_id="dlv-old")
    fake.posts[0].metadata = {"event_type": "paperboy_delivery", "event_payload": {"delivery_id": "dlv-old"}}
    assert await adapter.find_parts(C1, "dlv-old", since, {}) == {0: fake.posts[0].ts}


async def test_find_parts_pages_through_history_boundedly(fake: FakeSlack, adapter: SlackAdapter) -> None:
    since = datetime.now(UTC) - timedelta(hours=1)
    sent = await adapter.send(C1, digest(1), delivery_id="dlv-old")
    for i in range(6):
        await adapter.send(C1, TextReply(f"newer {i}"))
    fake.history_page_size = 2
    assert await adapter.find_parts(C1, "dlv-old", since, {}) == {0: sent.message_id}
    assert len(fake.calls_of("conversations.history")) == 4
    fake.history_page_size = 1
    assert await adapter.find_parts(C1, "dlv-old", since, {}) == {}, "gives up after a bounded number of pages"
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


async def test_a_followup_lands_in_the_thread_of_its_paper_and_is_found_there(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    whole = digest(25)
    top = (await adapter.send(C1, whole, delivery_id="dlv-digest")).message_id
    news = FollowUp(C1, whole.entries[3].paper, ArtifactKind.MODEL, top, "org/model-7b", more=3)
    sent = await adapter.send(C1, news, delivery_id="dlv-news")
    post = fake.posts[-1]
    assert (post.ts, post.thread_ts) == (sent.message_id, top)
    assert post.metadata == marker("dlv-news", 0)
    blocks_text = str(post.blocks)
    assert "*Model:* <https://huggingface.co/org/model-7b|org/model-7b> · 3 more" in blocks_text
    since = NOW - timedelta(days=1)
    # Found in the paper's thread (never in the channel's history, where a reply does not show) ...
    assert await adapter.find_parts(C1, "dlv-news", since, {}, under=top) == {0: sent.message_id}
    assert await adapter.find_parts(C1, "dlv-news", since, {}) == {}
    # ... and a digest's own parts are not taken for it.
    assert await adapter.find_parts(C1, "dlv-other", since, {}, under=top) == {}

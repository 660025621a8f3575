"""Digests over several days with a fixed clock: trending, topics since the last digest, dedupe forever."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from bot.digest_run import RunOutcome
from bot.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.sources.sample import SAMPLE_FIRST_DAY, SAMPLE_LAST_DAY
from bot.types import Digest, DigestReason, Status, TextReply
from tests.e2e.conftest import HERE, OTHER, Harness


def at(day_offset: int, hour: int = 9) -> datetime:
    return datetime.combine(SAMPLE_FIRST_DAY + timedelta(days=day_offset), time(hour), UTC)


def posted_digests(h: Harness, channel=HERE) -> list[Digest]:  # type: ignore[no-untyped-def]
    return [m for m in h.chat.in_channel(channel) if isinstance(m, Digest)]


async def test_multi_day_digests_never_repeat_a_paper(harness: Harness) -> None:
    h = harness
    h.clock.set(at(0, 8))
    await h.one("subscribe agent OR reasoning")
    seen: set[str] = set()
    days = (SAMPLE_LAST_DAY - SAMPLE_FIRST_DAY).days + 2
    for offset in range(1, days):
        h.clock.set(at(offset))
        run = await h.app.runner.run(HERE)
        assert run.outcome in (RunOutcome.SENT, RunOutcome.EMPTY), run
    digests = posted_digests(h)
    assert len(digests) >= 5
    for d in digests:
        ids = [e.paper.id for e in d.entries]
        assert len(ids) == len(set(ids))
        assert not seen & set(ids), "a paper was posted twice in one channel"
        seen |= set(ids)
        assert d.delivery_id is not None
        trending = [e for e in d.entries if e.reason is DigestReason.TRENDING]
        assert len(trending) <= 10
        assert all(d.papers_day in e.paper.featured_days for e in trending)
        for e in d.entries:
            if e.reason is DigestReason.TOPIC:
                assert e.matched, "topic entries say what matched"


async def test_a_second_run_the_same_day_posts_nothing(harness: Harness) -> None:
    h = harness
    await h.say("digest on")
    first = await h.app.runner.run(HERE)
    second = await h.app.runner.run(HERE)
    assert first.outcome is RunOutcome.SENT and second.outcome is RunOutcome.ALREADY
    reply = await h.one("digest now")
    assert isinstance(reply, TextReply) and "already posted" in reply.text
    assert len(posted_digests(h)) == 1


async def test_a_new_topic_does_not_flood_with_backlog(harness: Harness) -> None:
    h = harness
    await h.one("settings trending off")
    h.clock.set(datetime.combine(SAMPLE_LAST_DAY, time(12), UTC))
    await h.one("subscribe agent")
    h.clock.set(datetime.combine(SAMPLE_LAST_DAY + timedelta(days=1), time(9), UTC))
    run = await h.app.runner.run(HERE)
    assert run.outcome is RunOutcome.SENT
    (digest,) = posted_digests(h)
    assert digest.entries
    # Only papers of the subscription day onwards: none featured only before it.
    for e in digest.entries:
        assert max(e.paper.featured_days) >= SAMPLE_LAST_DAY


async def test_empty_digest_is_not_posted_unless_asked(harness: Harness) -> None:
    h = harness
    await h.one("settings trending off")
    run = await h.app.runner.run(HERE)
    assert run.outcome is RunOutcome.EMPTY
    assert posted_digests(h) == []
    await h.one("settings empty on")
    h.clock.advance(timedelta(days=1))
    run = await h.app.runner.run(HERE)
    assert run.outcome is RunOutcome.SENT
    assert posted_digests(h)[0].entries == ()


async def test_min_upvotes_and_max(harness: Harness) -> None:
    h = harness
    await h.one("settings max 3")
    await h.one("settings min-upvotes 20")
    await h.app.runner.run(HERE)
    (digest,) = posted_digests(h)
    assert 0 < len(digest.entries) <= 3
    assert all(e.paper.upvotes >= 20 for e in digest.entries)


async def test_weekends_off_skips_saturday(harness: Harness) -> None:
    h = harness
    await h.one("settings weekends off")
    saturday = SAMPLE_LAST_DAY + timedelta(days=1)
    assert saturday.weekday() == 5
    h.clock.set(datetime.combine(saturday, time(9), UTC))
    assert (await h.app.runner.run(HERE)).outcome is RunOutcome.WEEKEND
    assert posted_digests(h) == []


async def test_rate_limits_are_retried_and_posted_once(harness: Harness) -> None:
    h = harness
    await h.app.channels.ensure(HERE)
    h.chat.fail_next(HERE, RetryableDeliveryError("ratelimited", retry_after=1.0), RetryableDeliveryError("503"))
    run = await h.app.runner.run(HERE)
    assert run.outcome is RunOutcome.SENT
    assert len(posted_digests(h)) == 1


async def test_permanent_error_pauses_only_that_channel(harness: Harness) -> None:
    h = harness
    await h.app.channels.ensure(HERE)
    await h.app.channels.ensure(OTHER)
    h.chat.fail_next(HERE, PermanentDeliveryError("the channel was archived (is_archived)"))
    runs = {r.channel: r for r in await h.app.runner.run_many([HERE, OTHER])}
    assert runs[HERE].outcome is RunOutcome.PAUSED
    assert runs[OTHER].outcome is RunOutcome.SENT
    status = await h.one("status")
    assert isinstance(status, Status)
    assert status.paused_reason == "the channel was archived (is_archived)"
    assert status.next_digest_at is None
    assert status.last_delivery is not None and status.last_delivery.error is not None
    # The next day the paused channel stays quiet until a manager turns the digest back on.
    h.clock.advance(timedelta(days=1))
    assert (await h.app.runner.run(HERE)).outcome is RunOutcome.PAUSED
    await h.one("digest on")
    assert (await h.app.runner.run(HERE)).outcome is RunOutcome.SENT


async def test_crash_between_post_and_record_does_not_duplicate(harness: Harness) -> None:
    """The post reached the channel but the process died before recording it."""
    h = harness
    await h.app.channels.ensure(HERE)
    db = h.app.db
    digest_day = h.clock.now().date().isoformat()
    from bot.types import DeliveryKind

    claim = await db.deliveries.claim(HERE, DeliveryKind.DIGEST, digest_day, claimed_by="dead", now=h.clock.now())
    assert claim is not None
    dummy = Digest(HERE, h.clock.now().date(), (), delivery_id=claim.id)
    await h.chat.send(HERE, dummy, delivery_id=claim.id)  # posted, never recorded
    h.clock.advance(timedelta(minutes=30))  # the claim is now stale
    runs = await h.app.runner.recover()
    assert [r.outcome for r in runs] == [RunOutcome.RECOVERED]
    assert len(posted_digests(h)) == 1
    recorded = await db.deliveries.get(claim.id)
    assert recorded is not None and recorded.message_id is not None


async def test_a_live_claimer_is_never_robbed_and_a_dead_ones_claim_is_finished_once(harness: Harness) -> None:
    h = harness
    await h.app.channels.ensure(HERE)
    from bot.types import DeliveryKind, Replica

    now = h.clock.now()
    other = Replica("other-replica", "elsewhere", 4242, now, now + timedelta(seconds=15))
    await h.app.db.replicas.register(other)
    day = now.date().isoformat()
    assert await h.app.db.deliveries.claim(HERE, DeliveryKind.DIGEST, day, claimed_by=other.id, now=now)
    # The claimer renews its lease every 5 s (a lapsed lease cannot be renewed): however long it takes,
    # nobody else posts.
    for _ in range(3):
        for _ in range(60):
            h.clock.advance(timedelta(seconds=5))
            assert await h.app.db.replicas.renew(
                other.id, now=h.clock.now(), expires_at=h.clock.now() + timedelta(seconds=15)
            )
        assert (await h.app.runner.run(HERE)).outcome is RunOutcome.BUSY
        assert await h.app.runner.recover() == []
    # It stops renewing (it died): the next recovery pass finishes the digest, once.
    h.clock.advance(timedelta(seconds=16))
    runs = await h.app.runner.recover()
    assert [r.outcome for r in runs] == [RunOutcome.SENT]
    assert (await h.app.runner.run(HERE)).outcome is RunOutcome.ALREADY
    assert len(posted_digests(h)) == 1


async def test_digest_preview_is_private_and_changes_nothing(harness: Harness) -> None:
    h = harness
    preview = await h.one("digest preview")
    assert isinstance(preview, Digest) and preview.private and preview.entries
    run = await h.app.runner.run(HERE)
    (posted,) = posted_digests(h)
    assert run.outcome is RunOutcome.SENT
    assert [e.paper.id for e in posted.entries] == [e.paper.id for e in preview.entries]
    assert replace(posted, delivery_id=None, private=True, note=preview.note) == preview

"""A digest is one delivery with parts: each part recorded as it lands, a takeover posts only what is missing.

The memory adapter splits a digest into parts of `part_size` entries, as Slack and Discord split a long
digest into a channel message and replies under it; the real platforms' parts are covered by the contract
and reliability tests.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.delivery import Deliverer, Outcome
from bot.digest import DigestBuilder, digest_content, revive_digest
from bot.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.ports import SentMessage
from bot.types import Delivery, DeliveryKind, DeliveryState, Digest, Message, Replica
from tests.e2e.conftest import HERE, Harness

PART_SIZE = 3


class Died(Exception):
    """The claimer's process ended here."""


def parts_posted(h: Harness) -> list[tuple[int, str | None, str | None]]:
    """(part, delivery id, parent message id) of every post in HERE, in order."""
    return [(p.part, p.delivery_id, p.parent) for p in h.chat.posted if p.channel == HERE]


async def the_delivery(h: Harness) -> Delivery:
    found = await h.app.db.deliveries.get_by_key(HERE, DeliveryKind.DIGEST, h.clock.now().date().isoformat())
    assert found is not None
    return found


async def a_replica_dies_mid_digest(h: Harness, *, landed: int, recorded: int) -> tuple[Delivery, Digest]:
    """Another replica claimed today's digest, posted `landed` parts, recorded `recorded` of them, died."""
    await h.app.channels.ensure(HERE)
    now = h.clock.now()
    await h.app.db.replicas.register(Replica("dead", "elsewhere", 1, now, now + timedelta(seconds=15)))
    channel = await h.app.db.channels.get(HERE)
    assert channel is not None
    digest = await DigestBuilder(h.app.db.papers, h.app.db.subscriptions, h.app.db.deliveries).build(channel, now=now)
    claim = await h.app.db.deliveries.claim(
        HERE,
        DeliveryKind.DIGEST,
        digest.day.isoformat(),
        claimed_by="dead",
        now=now,
        paper_ids=[e.paper.id for e in digest.entries],
        content=digest_content(digest),
    )
    assert claim is not None
    shown = replace(digest, delivery_id=claim.id)
    assert landed < h.chat.parts_of(shown)

    async def record_then_die(position: int, message_id: str) -> None:
        if position < recorded:
            await h.app.db.deliveries.record_part(claim.id, position, message_id, now=now)
        if position + 1 == landed:
            raise Died

    with pytest.raises(Died):
        await h.chat.send(HERE, shown, delivery_id=claim.id, on_part=record_then_die)
    h.clock.advance(timedelta(seconds=16))  # its lease lapses
    return claim, shown


async def test_a_digest_goes_out_part_by_part_and_each_part_is_recorded(harness: Harness) -> None:
    h = harness
    h.chat.part_size = PART_SIZE
    await h.app.channels.ensure(HERE)
    run = await h.app.runner.run(HERE)
    delivery = await the_delivery(h)
    posted = parts_posted(h)
    assert run.papers > PART_SIZE and len(posted) == -(-run.papers // PART_SIZE)
    assert [p for p, _, _ in posted] == list(range(len(posted)))
    assert all(d == delivery.id for _, d, _ in posted)
    first = h.chat.posted[0].message_id
    assert all(parent == first for _, _, parent in posted[1:]), "replies go under the channel message"
    assert await h.app.db.deliveries.parts(delivery.id) == {p.part: p.message_id for p in h.chat.posted}
    assert delivery.state is DeliveryState.SENT and delivery.message_id == first


async def test_a_failed_reply_is_retried_alone_under_the_same_parent(harness: Harness) -> None:
    h = harness
    h.chat.part_size = PART_SIZE
    await h.app.channels.ensure(HERE)
    # The channel message lands; the first reply is rate limited twice (a 429 certainly did not post).
    h.chat.fail_next(HERE, *[RetryableDeliveryError("rate limited", retry_after=0)] * 2, after=1)
    run = await h.app.runner.run(HERE)
    assert run.outcome.value == "sent"
    posted = parts_posted(h)
    assert [p for p, _, _ in posted] == list(range(len(posted))), "each part exactly once, in order"
    first = h.chat.posted[0].message_id
    assert all(parent == first for _, _, parent in posted[1:])


async def test_a_takeover_posts_only_the_parts_that_never_landed(harness: Harness) -> None:
    h = harness
    h.chat.part_size = PART_SIZE
    claim, _ = await a_replica_dies_mid_digest(h, landed=2, recorded=2)
    runs = await h.app.runner.recover()
    assert [r.outcome.value for r in runs] == ["sent"]
    posted = parts_posted(h)
    assert [p for p, _, _ in posted] == list(range(len(posted))) and len(posted) > 2
    first = h.chat.posted[0].message_id
    assert all(parent == first for _, _, parent in posted[1:]), "the missing parts go under the right parent"
    assert (await the_delivery(h)).state is DeliveryState.SENT
    assert len(await h.app.db.deliveries.parts(claim.id)) == len(posted)


async def test_a_part_that_landed_but_was_never_recorded_is_found_not_posted_again(harness: Harness) -> None:
    h = harness
    h.chat.part_size = PART_SIZE
    claim, _ = await a_replica_dies_mid_digest(h, landed=2, recorded=1)  # died between post and record
    await h.app.runner.recover()
    posted = parts_posted(h)
    assert [p for p, _, _ in posted] == list(range(len(posted))), "part 1 was found by its marker, not re-posted"
    assert (await h.app.db.deliveries.parts(claim.id)).keys() == set(range(len(posted)))


async def test_when_every_part_had_landed_the_takeover_only_records_it(harness: Harness) -> None:
    h = harness
    h.chat.part_size = 50  # one part
    await h.app.channels.ensure(HERE)
    now = h.clock.now()
    await h.app.db.replicas.register(Replica("dead", "elsewhere", 1, now, now + timedelta(seconds=15)))
    day = now.date().isoformat()
    claim = await h.app.db.deliveries.claim(HERE, DeliveryKind.DIGEST, day, claimed_by="dead", now=now)
    assert claim is not None
    channel = await h.app.db.channels.get(HERE)
    assert channel is not None
    digest = await DigestBuilder(h.app.db.papers, h.app.db.subscriptions, h.app.db.deliveries).build(channel, now=now)
    await h.chat.send(HERE, replace(digest, delivery_id=claim.id), delivery_id=claim.id)  # posted, never recorded
    h.clock.advance(timedelta(seconds=16))
    runs = await h.app.runner.recover()
    assert [r.outcome.value for r in runs] == ["recovered"]
    assert len(parts_posted(h)) == 1


async def test_a_takeover_posts_the_digest_as_claimed_even_after_the_data_moved_on(harness: Harness) -> None:
    h = harness
    h.chat.part_size = PART_SIZE
    claim, first = await a_replica_dies_mid_digest(h, landed=1, recorded=1)
    # Meanwhile an ingest moved every upvote count (and so the day's order).
    papers = await h.app.db.papers.get_many(claim.paper_ids)
    bumped = [replace(p, upvotes=p.upvotes * 3 + i) for i, p in enumerate(reversed(list(papers.values())))]
    await h.app.db.papers.upsert(bumped, seen_at=h.clock.now())
    await h.app.runner.recover()
    rest = [p.message for p in h.chat.posted[1:]]
    assert rest and all(isinstance(m, Digest) for m in rest)
    finished = rest[-1]
    assert isinstance(finished, Digest)
    assert [e.paper.id for e in finished.entries] == [e.paper.id for e in first.entries]
    assert [e.paper.upvotes for e in finished.entries] == [e.paper.upvotes for e in first.entries]


async def test_a_permanent_error_mid_digest_pauses_then_digest_on_finishes_it(harness: Harness) -> None:
    h = harness
    h.chat.part_size = PART_SIZE
    await h.app.channels.ensure(HERE)
    h.chat.fail_next(HERE, PermanentDeliveryError("Paperboy may not post in threads here"), after=1)
    run = await h.app.runner.run(HERE)
    assert run.outcome.value == "paused" and len(parts_posted(h)) == 1
    # Not retried behind the manager's back: recovery sees the pause and posts nothing.
    assert [r.outcome.value for r in await h.app.runner.recover()] == ["paused"]
    assert len(parts_posted(h)) == 1
    await h.one("digest on")
    runs = await h.app.runner.recover()
    assert [r.outcome.value for r in runs] == ["sent"]
    posted = parts_posted(h)
    assert [p for p, _, _ in posted] == list(range(len(posted))) and len(posted) > 1


async def test_a_live_replicas_own_orphaned_claim_is_finished_by_its_own_recovery(harness: Harness) -> None:
    h = harness
    h.chat.part_size = PART_SIZE
    await h.app.channels.ensure(HERE)
    # A task of this live replica was cancelled mid-delivery, before it could record anything.
    h.chat.fail_next(HERE, asyncio.CancelledError(), after=1)
    with pytest.raises(asyncio.CancelledError):
        await h.app.runner.run(HERE)
    delivery = await the_delivery(h)
    assert delivery.state is DeliveryState.CLAIMED
    runs = await h.app.runner.recover()
    assert [r.outcome.value for r in runs] == ["sent"]
    posted = parts_posted(h)
    assert [p for p, _, _ in posted] == list(range(len(posted)))


async def test_a_claimer_that_stalled_past_its_lease_posts_nothing_more_after_a_peer_took_over(
    harness: Harness,
) -> None:
    """A live but stalled replica (its event loop blocked past the lease) must not resume posting a digest a
    peer has meanwhile taken over and finished: each part exactly once, whoever posted it."""
    h = harness
    h.chat.part_size = PART_SIZE
    await h.app.channels.ensure(HERE)
    now = h.clock.now()
    await h.app.db.replicas.register(Replica("peer", "elsewhere", 2, now, now + timedelta(days=1)))
    peer = Deliverer(h.app.db.deliveries, h.app.db.channels, {HERE.platform: h.chat}, h.clock, replica_id="peer")

    async def revive(delivery: Delivery) -> Message:
        assert delivery.content is not None
        return await revive_digest(delivery.content, delivery.channel, h.app.db.papers)

    send = h.chat.send
    peer_results: list[Outcome] = []
    stalled: list[bool] = []

    async def stalling_send(*args: Any, on_part: Any = None, **kwargs: Any) -> SentMessage:
        async def stall_after_first_part(position: int, message_id: str) -> None:
            if not stalled:
                stalled.append(True)
                # The first part landed; then this replica froze for longer than its lease, and the peer's
                # recovery pass took the claim over and finished it.
                h.clock.advance(timedelta(seconds=16))
                claim = await the_delivery(h)
                peer_results.append((await peer.finish(claim, revive)).outcome)
            await on_part(position, message_id)

        return await send(*args, on_part=stall_after_first_part if on_part else None, **kwargs)

    h.chat.send = stalling_send  # type: ignore[method-assign]
    run = await h.app.runner.run(HERE)
    assert peer_results == [Outcome.SENT]
    assert run.outcome.value == "busy"
    posted = parts_posted(h)
    assert run.papers > PART_SIZE and len(posted) == -(-run.papers // PART_SIZE)
    assert [p for p, _, _ in posted] == list(range(len(posted)))  # each part once
    assert (await the_delivery(h)).state is DeliveryState.SENT

"""Delivery claims: exactly one claimer, recovery rules, and the per-channel posted set."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.types import ChannelRef, DeliveryKind, DeliveryState
from storage import Database
from tests.storage.conftest import NOW, RANDOM

STALE_AFTER = timedelta(minutes=10)


async def test_claim_creates_a_claimed_delivery_and_a_second_claim_loses(db: Database, general: ChannelRef) -> None:
    won = await db.deliveries.claim(
        general, DeliveryKind.DIGEST, "2025-11-10", claimed_by="replica-a", now=NOW, paper_ids=["2511.04570"]
    )
    assert won is not None
    assert won.state is DeliveryState.CLAIMED and won.claimed_by == "replica-a" and won.paper_ids == ("2511.04570",)
    assert len(won.id) == 32
    assert await db.deliveries.get(won.id) == won
    assert await db.deliveries.get_by_key(general, DeliveryKind.DIGEST, "2025-11-10") == won
    lost = await db.deliveries.claim(general, DeliveryKind.DIGEST, "2025-11-10", claimed_by="replica-b", now=NOW)
    assert lost is None
    # a different kind or key, or another channel, is another delivery
    assert await db.deliveries.claim(general, DeliveryKind.PAPER, "2025-11-10", claimed_by="b", now=NOW) is not None
    assert await db.deliveries.claim(general, DeliveryKind.DIGEST, "2025-11-11", claimed_by="b", now=NOW) is not None


async def test_ten_concurrent_claimers_exactly_one_wins(db: Database, general: ChannelRef) -> None:
    results = await asyncio.gather(
        *(
            db.deliveries.claim(general, DeliveryKind.DIGEST, "2025-11-12", claimed_by=f"worker-{i}", now=NOW)
            for i in range(10)
        )
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    stored = await db.deliveries.get_by_key(general, DeliveryKind.DIGEST, "2025-11-12")
    assert stored == winners[0]


async def test_concurrent_claimers_on_two_replicas(db: Database, replica: Database, general: ChannelRef) -> None:
    results = await asyncio.gather(
        *(
            (db if i % 2 else replica).deliveries.claim(
                general, DeliveryKind.PAPER, "2511.04570", claimed_by=f"r{i}", now=NOW
            )
            for i in range(10)
        )
    )
    assert sum(r is not None for r in results) == 1


async def test_claim_on_unknown_channel_raises(db: Database) -> None:
    with pytest.raises(LookupError):
        await db.deliveries.claim(RANDOM, DeliveryKind.DIGEST, "2025-11-10", claimed_by="a", now=NOW)


async def test_reclaim_takes_over_failed_and_stale_claims_only(db: Database, general: ChannelRef) -> None:
    fresh = await db.deliveries.claim(general, DeliveryKind.DIGEST, "d1", claimed_by="a", now=NOW)
    assert fresh is not None
    later = NOW + timedelta(minutes=5)
    # still within its claimer's time: not eligible
    assert await db.deliveries.reclaim(fresh.id, claimed_by="b", now=later, stale_before=later - STALE_AFTER) is None

    much_later = NOW + timedelta(minutes=30)
    taken = await db.deliveries.reclaim(fresh.id, claimed_by="b", now=much_later, stale_before=much_later - STALE_AFTER)
    assert taken is not None
    assert (taken.state, taken.claimed_by, taken.claimed_at) == (DeliveryState.CLAIMED, "b", much_later)

    await db.deliveries.mark_failed(taken.id, error="HTTP 503", now=much_later)
    failed = await db.deliveries.get(taken.id)
    assert failed is not None and failed.state is DeliveryState.FAILED and failed.error == "HTTP 503"
    retried = await db.deliveries.reclaim(taken.id, claimed_by="c", now=much_later, stale_before=NOW)
    assert retried is not None and retried.claimed_by == "c"

    await db.deliveries.mark_sent(retried.id, message_id="1731.0001", now=much_later)
    for when in (much_later, much_later + timedelta(days=1)):
        assert await db.deliveries.reclaim(retried.id, claimed_by="d", now=when, stale_before=when) is None
    assert await db.deliveries.reclaim("0" * 32, claimed_by="d", now=much_later, stale_before=much_later) is None


async def test_concurrent_reclaims_have_one_winner(db: Database, general: ChannelRef) -> None:
    claimed = await db.deliveries.claim(general, DeliveryKind.DIGEST, "d2", claimed_by="a", now=NOW)
    assert claimed is not None
    await db.deliveries.mark_failed(claimed.id, error="timeout", now=NOW)
    later = NOW + timedelta(minutes=1)
    results = await asyncio.gather(
        *(db.deliveries.reclaim(claimed.id, claimed_by=f"w{i}", now=later, stale_before=NOW) for i in range(6))
    )
    assert sum(r is not None for r in results) == 1


async def test_skipped_delivery_is_final(db: Database, general: ChannelRef) -> None:
    claimed = await db.deliveries.claim(general, DeliveryKind.DIGEST, "d3", claimed_by="a", now=NOW)
    assert claimed is not None
    await db.deliveries.mark_skipped(claimed.id, reason="nothing new", now=NOW)
    skipped = await db.deliveries.get(claimed.id)
    assert skipped is not None and skipped.state is DeliveryState.SKIPPED and skipped.error == "nothing new"
    assert skipped.finished_at == NOW
    when = NOW + timedelta(days=1)
    assert await db.deliveries.reclaim(claimed.id, claimed_by="b", now=when, stale_before=when) is None


async def test_unfinished_lists_stale_claims_and_failures(db: Database, general: ChannelRef) -> None:
    stale = await db.deliveries.claim(general, DeliveryKind.DIGEST, "old", claimed_by="a", now=NOW)
    recent = await db.deliveries.claim(
        general, DeliveryKind.DIGEST, "new", claimed_by="a", now=NOW + timedelta(minutes=20)
    )
    failed = await db.deliveries.claim(
        general, DeliveryKind.PAPER, "p", claimed_by="a", now=NOW + timedelta(minutes=25)
    )
    sent = await db.deliveries.claim(general, DeliveryKind.PAPER, "q", claimed_by="a", now=NOW)
    assert stale and recent and failed and sent
    await db.deliveries.mark_failed(failed.id, error="boom", now=NOW + timedelta(minutes=26))
    await db.deliveries.mark_sent(sent.id, message_id="m", now=NOW)
    found = await db.deliveries.unfinished(older_than=NOW + timedelta(minutes=10))
    assert [d.id for d in found] == [stale.id, failed.id]


async def test_last_for_channel_is_the_most_recent_claim(db: Database, general: ChannelRef) -> None:
    assert await db.deliveries.last_for_channel(general) is None
    await db.deliveries.claim(general, DeliveryKind.DIGEST, "a", claimed_by="x", now=NOW)
    newest = await db.deliveries.claim(general, DeliveryKind.DIGEST, "b", claimed_by="x", now=NOW + timedelta(days=1))
    await db.deliveries.claim(general, DeliveryKind.DIGEST, "c", claimed_by="x", now=NOW - timedelta(days=1))
    assert await db.deliveries.last_for_channel(general) == newest


async def test_mark_sent_records_posted_papers_forever(db: Database, general: ChannelRef) -> None:
    await db.channels.ensure(RANDOM, digest_time=NOW.time(), timezone="UTC", now=NOW)
    claimed = await db.deliveries.claim(
        general, DeliveryKind.DIGEST, "2025-11-10", claimed_by="a", now=NOW, paper_ids=["2511.1", "2511.2"]
    )
    assert claimed is not None
    assert await db.deliveries.posted_paper_ids(general) == set()
    await db.deliveries.mark_sent(claimed.id, message_id="1731000000.000100", now=NOW)
    sent = await db.deliveries.get(claimed.id)
    assert sent is not None
    assert (sent.state, sent.message_id, sent.finished_at) == (DeliveryState.SENT, "1731000000.000100", NOW)
    assert await db.deliveries.posted_paper_ids(general) == {"2511.1", "2511.2"}
    assert await db.deliveries.posted_paper_ids(RANDOM) == set()
    # recording again (e.g. a recovered delivery) is harmless and adds only what is new
    await db.deliveries.record_posted(general, ["2511.2", "2511.3", "2511.3"], delivery_id=claimed.id, now=NOW)
    await db.deliveries.record_posted(general, [], delivery_id=claimed.id, now=NOW)
    assert await db.deliveries.posted_paper_ids(general) == {"2511.1", "2511.2", "2511.3"}

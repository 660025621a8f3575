"""Delivery claims: exactly one claimer, recovery rules, and the per-channel posted set."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from bot.types import ChannelRef, DeliveryKind, DeliveryState, Replica
from storage import Database
from tests.storage.conftest import NOW, RANDOM


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


async def lease(db: Database, replica_id: str, *, until: datetime, host: str = "host-a", pid: int = 1) -> None:
    await db.replicas.register(Replica(replica_id, host, pid, NOW, until))


async def test_reclaim_takes_over_failed_claims_and_those_of_lapsed_leases_only(
    db: Database, general: ChannelRef
) -> None:
    await lease(db, "a", until=NOW + timedelta(seconds=15))
    await lease(db, "b", until=NOW + timedelta(hours=1))
    fresh = await db.deliveries.claim(general, DeliveryKind.DIGEST, "d1", claimed_by="a", now=NOW)
    assert fresh is not None
    # "a" is alive: however old its claim, nobody robs it.
    assert await db.deliveries.reclaim(fresh.id, claimed_by="b", now=NOW + timedelta(seconds=10)) is None
    await db.replicas.renew("a", now=NOW, expires_at=NOW + timedelta(hours=2))
    assert await db.deliveries.reclaim(fresh.id, claimed_by="b", now=NOW + timedelta(hours=1)) is None

    # "a" stopped renewing: the claim is up for takeover the moment its lease lapses.
    lapsed = NOW + timedelta(hours=2, seconds=1)
    taken = await db.deliveries.reclaim(fresh.id, claimed_by="b", now=lapsed)
    assert taken is not None
    assert (taken.state, taken.claimed_by, taken.claimed_at) == (DeliveryState.CLAIMED, "b", NOW)  # started at NOW

    await db.deliveries.mark_failed(taken.id, error="HTTP 503", now=lapsed)
    failed = await db.deliveries.get(taken.id)
    assert failed is not None and failed.state is DeliveryState.FAILED and failed.error == "HTTP 503"
    retried = await db.deliveries.reclaim(taken.id, claimed_by="c", now=lapsed)
    assert retried is not None and retried.claimed_by == "c"

    await db.deliveries.mark_sent(retried.id, message_id="1731.0001", now=lapsed)
    for when in (lapsed, lapsed + timedelta(days=1)):
        assert await db.deliveries.reclaim(retried.id, claimed_by="d", now=when) is None
    assert await db.deliveries.reclaim("0" * 32, claimed_by="d", now=lapsed) is None


async def test_a_claimer_without_any_lease_is_dead(db: Database, general: ChannelRef) -> None:
    # Claims made before leases existed, or by a replica whose lapsed lease was cleaned up.
    old = await db.deliveries.claim(general, DeliveryKind.DIGEST, "d0", claimed_by="gone:123", now=NOW)
    assert old is not None
    assert await db.deliveries.reclaim(old.id, claimed_by="b", now=NOW) is not None


async def test_a_replica_may_take_back_its_own_claim(db: Database, general: ChannelRef) -> None:
    # Its own orphan (the process is alive but the delivery is not in flight: it died in a task).
    await lease(db, "a", until=NOW + timedelta(hours=1))
    mine = await db.deliveries.claim(general, DeliveryKind.DIGEST, "d9", claimed_by="a", now=NOW)
    assert mine is not None
    assert await db.deliveries.reclaim(mine.id, claimed_by="a", now=NOW) is not None


async def test_concurrent_reclaims_have_one_winner(db: Database, general: ChannelRef) -> None:
    claimed = await db.deliveries.claim(general, DeliveryKind.DIGEST, "d2", claimed_by="a", now=NOW)
    assert claimed is not None
    await db.deliveries.mark_failed(claimed.id, error="timeout", now=NOW)
    later = NOW + timedelta(minutes=1)
    for i in range(6):  # takers are live replicas: whoever wins holds it against the others
        await lease(db, f"w{i}", until=later + timedelta(hours=1))
    results = await asyncio.gather(
        *(db.deliveries.reclaim(claimed.id, claimed_by=f"w{i}", now=later) for i in range(6))
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
    assert await db.deliveries.reclaim(claimed.id, claimed_by="b", now=when) is None


async def test_unfinished_lists_failures_dead_claims_and_own_claims(db: Database, general: ChannelRef) -> None:
    await lease(db, "live", until=NOW + timedelta(hours=1))
    await lease(db, "dead", until=NOW - timedelta(seconds=1))
    await lease(db, "me", until=NOW + timedelta(hours=1))
    dead = await db.deliveries.claim(general, DeliveryKind.DIGEST, "old", claimed_by="dead", now=NOW)
    live = await db.deliveries.claim(general, DeliveryKind.DIGEST, "new", claimed_by="live", now=NOW)
    failed = await db.deliveries.claim(
        general, DeliveryKind.PAPER, "p", claimed_by="live", now=NOW + timedelta(minutes=25)
    )
    mine = await db.deliveries.claim(general, DeliveryKind.PAPER, "m", claimed_by="me", now=NOW + timedelta(hours=1))
    sent = await db.deliveries.claim(general, DeliveryKind.PAPER, "q", claimed_by="dead", now=NOW)
    assert dead and live and failed and mine and sent
    await db.deliveries.mark_failed(failed.id, error="boom", now=NOW + timedelta(minutes=26))
    await db.deliveries.mark_sent(sent.id, message_id="m", now=NOW)
    found = await db.deliveries.unfinished(now=NOW, replica_id="me")
    assert [d.id for d in found] == [dead.id, failed.id, mine.id]


async def test_parts_are_recorded_once_each_and_read_back_in_order(db: Database, general: ChannelRef) -> None:
    claimed = await db.deliveries.claim(
        general, DeliveryKind.DIGEST, "2025-11-12", claimed_by="a", now=NOW, content='{"entries": []}'
    )
    assert claimed is not None and claimed.content == '{"entries": []}'
    assert await db.deliveries.parts(claimed.id) == {}
    await db.deliveries.record_part(claimed.id, 0, "1731.0001", now=NOW)
    await db.deliveries.record_part(claimed.id, 2, "1731.0003", now=NOW)
    await db.deliveries.record_part(claimed.id, 1, "1731.0002", now=NOW)
    await db.deliveries.record_part(claimed.id, 1, "1731.9999", now=NOW)  # recorded twice: the first stays
    assert await db.deliveries.parts(claimed.id) == {0: "1731.0001", 1: "1731.0002", 2: "1731.0003"}
    stored = await db.deliveries.get(claimed.id)
    assert stored is not None and stored.content == '{"entries": []}'


async def test_leases_register_renew_expire_and_release(db: Database) -> None:
    await lease(db, "a", until=NOW + timedelta(seconds=15), host="h1", pid=10)
    await lease(db, "b", until=NOW + timedelta(seconds=15), host="h2", pid=10)
    assert [r.id for r in await db.replicas.live(now=NOW)] == ["a", "b"]
    assert [r.id for r in await db.replicas.on_host("h1")] == ["a"]
    assert await db.replicas.renew("a", now=NOW, expires_at=NOW + timedelta(minutes=1))
    assert [r.id for r in await db.replicas.live(now=NOW + timedelta(seconds=20))] == ["a"]
    await db.replicas.expire(["a"], now=NOW)
    assert await db.replicas.live(now=NOW) == [r for r in await db.replicas.live(now=NOW) if r.id == "b"]
    await db.replicas.release("b")
    assert await db.replicas.live(now=NOW - timedelta(days=1)) == [
        r for r in await db.replicas.on_host("h1") if r.id == "a"
    ]
    assert not await db.replicas.renew("b", now=NOW, expires_at=NOW + timedelta(minutes=1))  # gone
    assert await db.replicas.forget_lapsed(before=NOW + timedelta(days=1)) == 1


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

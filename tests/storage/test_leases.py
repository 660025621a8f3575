"""Leases on the real store: a restarted process ends its dead predecessors' leases at once, never a live one's."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from bot.clock import FixedClock
from bot.errors import StoreUnavailable
from bot.leases import Identity, Lease, this_host
from bot.outage import StoreHealth
from bot.types import Replica
from storage import Database
from tests.storage.conftest import NOW

LEASE = timedelta(seconds=15)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


def lease_for(db: Database, identity: Identity, clock: FixedClock) -> Lease:
    return Lease(db.replicas, identity, clock, duration=LEASE, health=StoreHealth(clock))


async def test_acquire_ends_the_leases_of_dead_predecessors_on_this_host_only(db: Database) -> None:
    clock = FixedClock(NOW)
    host = this_host()
    until = NOW + LEASE
    gone = dead_pid()
    await db.replicas.register(Replica("same-pid", host, os.getpid(), NOW, until))  # a container restart: pid 1 again
    await db.replicas.register(Replica("dead-pid", host, gone, NOW, until))
    await db.replicas.register(Replica("alive", host, os.getppid(), NOW, until))  # a live process on this host
    await db.replicas.register(Replica("elsewhere", "another-host/boot", gone, NOW, until))  # not ours to judge
    me = Identity("me", host, os.getpid())
    ended = await lease_for(db, me, clock).acquire()
    assert sorted(ended) == ["dead-pid", "same-pid"]
    assert {r.id for r in await db.replicas.live(now=NOW)} == {"alive", "elsewhere", "me"}


async def test_renewal_keeps_the_lease_and_registers_again_after_it_was_cleaned_up(db: Database) -> None:
    clock = FixedClock(NOW)
    lease = lease_for(db, Identity("me", "h", 1), clock)
    await lease.acquire()
    clock.advance(timedelta(seconds=10))
    assert await lease.renew()
    assert [r.expires_at for r in await db.replicas.live(now=clock.now())] == [clock.now() + LEASE]
    await db.replicas.release("me")  # as housekeeping would after a long outage
    assert await lease.renew()
    assert [r.id for r in await db.replicas.live(now=clock.now())] == ["me"]
    await lease.release()
    assert await db.replicas.live(now=clock.now()) == []


class Unreachable:
    """A replica store whose database is down until told otherwise."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.down = True

    def __getattr__(self, name: str) -> object:
        method = getattr(self._db.replicas, name)

        async def call(*args: object, **kwargs: object) -> object:
            if self.down:
                raise StoreUnavailable("cannot connect to the database (ConnectionRefusedError)")
            return await method(*args, **kwargs)

        return call


async def test_an_outage_is_logged_once_and_its_end_runs_the_catch_up(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FixedClock(NOW)
    health = StoreHealth(clock)
    caught_up: list[str] = []

    async def catch_up() -> None:
        caught_up.append("digests")

    health.when_back("missed digests", catch_up)
    store = Unreachable(db)
    lease = Lease(store, Identity("me", "h", 1), clock, duration=LEASE, health=health)  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG, logger="bot.outage"):
        for _ in range(20):  # a minute of renewals every 3 s
            assert not await lease.renew()
            clock.advance(timedelta(seconds=3))
        assert not health.up and caught_up == []
        store.down = False
        await db.replicas.register(Replica("me", "h", 1, NOW, NOW + LEASE))
        assert await lease.renew()
        await health.settle()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(":")[0] for r in warnings] == [
        "database unreachable while renewing the replica lease",
        "replica me",  # a minute without renewals: the lease lapsed, and is registered afresh
        "database reachable again after 60 s (20 failed operations); catching up",
    ]
    assert health.up and caught_up == ["digests"]


async def test_a_ticket_goes_stale_near_the_lease_end_and_for_good_once_the_lease_lapsed(db: Database) -> None:
    clock = FixedClock(NOW)
    lease = lease_for(db, Identity("me", "h", 1), clock)
    assert not lease.ticket().fresh()  # not registered yet: nothing may be posted without a check
    await lease.acquire()
    ticket = lease.ticket()
    assert ticket.fresh()
    clock.advance(LEASE - lease.renew_every)  # one renewal period left: a peer's clock may be ahead
    assert not ticket.fresh()
    assert await lease.renew()
    assert ticket.fresh()  # renewed in time: the same lease, its deliveries go on unchecked
    clock.advance(LEASE + timedelta(seconds=1))  # stalled past the lease: peers may take its claims over
    assert await ticket.confirm()  # registered afresh, not extended in place
    assert not ticket.fresh()  # stale for good: the delivery must check its claim before posting on
    assert lease.ticket().fresh()  # deliveries that start now need no check
    ticket.adopt()  # the claim was found still its own
    assert ticket.fresh()
    assert [r.id for r in await db.replicas.live(now=clock.now())] == ["me"]
    await lease.release()
    assert not lease.ticket().fresh()
    assert not await ticket.confirm()  # a clean stop is final: nothing registers the lease again
    assert await db.replicas.live(now=clock.now()) == []


async def test_a_lapsed_lease_is_not_extended_in_place(db: Database) -> None:
    await db.replicas.register(Replica("me", "h", 1, NOW, NOW + LEASE))
    assert await db.replicas.renew("me", now=NOW + timedelta(seconds=5), expires_at=NOW + timedelta(seconds=20))
    late = NOW + timedelta(seconds=21)
    assert not await db.replicas.renew("me", now=late, expires_at=late + LEASE)
    assert await db.replicas.live(now=late) == []

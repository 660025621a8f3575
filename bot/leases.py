"""This replica's lease: liveness, not age, decides whose claims may be taken over.

Every running Paperboy process registers a lease row and renews it every few seconds. A delivery claim
belongs to its claimer while the claimer's lease is live, however long the delivery takes; once the
lease lapses (the process died, or lost the database for longer than the lease), any replica's recovery
pass takes the claim over and finishes it, looking for what already landed first.

A process that is alive but stalled past its lease (a long pause, a starved event loop, the database out
of reach) must not keep posting what a peer may already have taken over. Every delivery holds a
`Ticket` of the lease it started under. Before each part: while the ticket is fresh (the lease was
confirmed recently, and has not lapsed since), it posts on without asking anyone; otherwise it renews
the lease first and asks whether the claim is still its own (`bot.delivery`), and stops if not. A
lapsed lease is never extended in place: the renewal fails and the lease is registered afresh under a
new generation, which makes every older ticket stale, so no delivery of the old lease posts again
before it has checked that no peer took its claim in between.

A restarted process need not wait for its predecessor's lease to lapse: a lease on this same host
(hostname plus boot id) whose process id is this one's, or no longer alive, belongs to a process that
is gone, so `acquire` ends it at once and the first recovery pass resolves its claims (Sidekiq's
super_fetch does the same for a restarted worker's in-flight jobs).

Anchors: Kubernetes leases (15 s by default, renewed every few seconds), Kafka's session timeout.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.errors import StoreUnavailable
from bot.outage import StoreHealth
from bot.ports import ReplicaStore
from bot.types import Replica

logger = logging.getLogger(__name__)

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
FORGET_AFTER = timedelta(days=1)
"""Lapsed leases are deleted after a day (they already count as dead; this only keeps the table small)."""


def this_host() -> str:
    """The hostname plus the kernel's boot id: a pid means the same process only on the same boot."""
    try:
        boot = BOOT_ID.read_text().strip()
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot}" if boot else socket.gethostname()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a process of another user holds the pid: alive, not ours to judge
    return True


@dataclass(frozen=True, slots=True)
class Identity:
    """Who this process is: a fresh id each start (a restarted process is a new replica), host and pid."""

    id: str
    host: str
    pid: int

    @classmethod
    def of_this_process(cls) -> Identity:
        return cls(uuid.uuid4().hex, this_host(), os.getpid())


class Ticket:
    """One delivery's hold on the lease it started under (see the module docstring)."""

    def __init__(self, lease: Lease) -> None:
        self._lease = lease
        self._generation = lease.generation

    def fresh(self) -> bool:
        """Posting on needs no check: the lease is surely live and has not lapsed since this was taken."""
        return self._lease.surely_live(self._generation)

    async def confirm(self) -> bool:
        """Renew the lease now; True when it is live afterwards (registered afresh if it had lapsed).

        A live lease makes the claims it still holds safe from takeover; whether it still holds this
        delivery's claim is for the caller to ask, and then `adopt` the lease's current generation.
        """
        return await self._lease.renew() and self._lease.surely_live(self._lease.generation)

    def adopt(self) -> None:
        self._generation = self._lease.generation


class Lease:
    def __init__(
        self,
        store: ReplicaStore,
        identity: Identity,
        clock: Clock,
        *,
        duration: timedelta,
        health: StoreHealth,
    ) -> None:
        if duration <= timedelta(0):
            raise ValueError("a lease must last longer than zero seconds")
        self._store = store
        self.identity = identity
        self._clock = clock
        self._duration = duration
        self._health = health
        self._task: asyncio.Task[None] | None = None
        self._confirmed_until: datetime | None = None
        """When the lease ends, as of the last registration or renewal the database confirmed."""
        self._generation = 0
        """Counts the times the lease lapsed and was registered again; a ticket holds one generation."""
        self._renewal = asyncio.Lock()
        """One renewal at a time: the background task and stalled deliveries may all ask at once."""
        self._released = False
        """After a clean stop nothing renews the lease again: peers may take over at once."""

    @property
    def replica_id(self) -> str:
        return self.identity.id

    @property
    def renew_every(self) -> timedelta:
        """A third of the lease: two renewals can fail before the lease lapses."""
        return self._duration / 3

    async def acquire(self) -> list[str]:
        """Register this replica, and end the leases of its dead predecessors on this host (their ids)."""
        now = self._clock.now()
        me = self.identity
        dead = [
            r.id
            for r in await self._store.on_host(me.host)
            if r.id != me.id and r.expires_at > now and (r.pid == me.pid or not pid_alive(r.pid))
        ]
        if dead:
            await self._store.expire(dead, now=now)
            logger.info("replica %s: ended the leases of %d dead predecessor(s) on this host", me.id, len(dead))
        await self._store.register(Replica(me.id, me.host, me.pid, now, now + self._duration))
        self._confirmed_until = now + self._duration
        logger.info("replica %s registered (host %s, pid %d)", me.id, me.host, me.pid)
        return dead

    def ticket(self) -> Ticket:
        """For one delivery: fresh while this lease is surely live, of the generation it started under."""
        return Ticket(self)

    def surely_live(self, generation: int) -> bool:
        """Confirmed live for a while yet, and not lapsed since `generation`.

        One renewal period short of the confirmed end: a renewal in flight, or a peer whose clock runs
        slightly ahead, must not find a claim up for takeover while this replica still posts it.
        """
        until = self._confirmed_until
        if until is None or generation != self._generation:
            return False
        return self._clock.now() < until - self.renew_every

    @property
    def generation(self) -> int:
        return self._generation

    async def renew(self) -> bool:
        """One renewal; False when the database could not be reached (the health log says so, once)."""
        async with self._renewal:
            if self._released:
                return False
            return await self._renew()

    async def _renew(self) -> bool:
        now = self._clock.now()
        try:
            if not await self._store.renew(self.replica_id, now=now, expires_at=now + self._duration):
                # It lapsed (a stall or a long outage): peers may have taken its claims over. This is a new
                # lease; the deliveries that started under the old one check their claims before posting on.
                self._generation += 1
                logger.warning(
                    "replica %s: its lease had lapsed; registering again; deliveries in flight check their claims",
                    self.replica_id,
                )
                me = self.identity
                await self._store.release(me.id)
                await self._store.register(Replica(me.id, me.host, me.pid, now, now + self._duration))
            self._confirmed_until = now + self._duration
            await self._store.forget_lapsed(before=now - FORGET_AFTER)
        except StoreUnavailable as exc:
            self._health.unavailable(exc, "renewing the replica lease")
            return False
        await self._health.available()
        return True

    def keep(self) -> None:
        """Renew in the background until `release`."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._renewing(), name="paperboy-lease")

    async def _renewing(self) -> None:
        while True:
            await asyncio.sleep(self.renew_every.total_seconds())
            try:
                await self.renew()
            except Exception:
                logger.exception("replica %s: renewing the lease failed", self.replica_id)

    async def release(self) -> None:
        """Stop renewing and end the lease, so other replicas may take over at once (a clean stop)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._released = True
        self._confirmed_until = None  # whatever is still in flight stops at its next part
        try:
            await self._store.release(self.replica_id)
        except StoreUnavailable as exc:
            self._health.unavailable(exc, "releasing the replica lease")

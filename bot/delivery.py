"""Posting exactly once as users see it (DESIGN §6, §10): claim, send part by part, record, retry, pause.

- A `deliveries` row is claimed before posting (unique per channel and digest day, or channel and
  paper; `INSERT ... ON CONFLICT DO NOTHING`). Only the claimer posts. The claim stores what the
  delivery shows, so whoever finishes it posts the same thing.
- A message goes out as parts: the channel message, then thread replies or follow-ups under it. Each
  part carries the delivery's marker for its position (Slack metadata, Discord nonce and a visible
  reference) and is recorded as it lands.
- A claim stays its claimer's while the claimer's lease is live (`bot.leases`), however slow. A claimer
  whose lease may have lapsed (it stalled past it) renews it and checks the claim is still its own
  before its next part; if a peer took it over, it posts nothing more (BUSY): the peer finishes it.
  When the lease lapses, the recovery pass takes the claim over atomically, first asks the platform
  which parts already landed (by marker), records those, and posts only the missing ones, in order,
  under the right parent. So neither a crash nor a takeover produces a visible duplicate or a half
  digest.
- Rate limits, 5xx and timeouts retry with exponential backoff and full jitter, never shorter than
  the platform's Retry-After; after an ambiguous failure (a timeout, a dropped connection) the parts are
  looked for again before anything is re-posted. Permanent errors pause the channel's digest with a
  readable reason. A database outage leaves the claim as it is: recovery finishes it when the database
  is back.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from bot.clock import Clock
from bot.errors import LeaseLapsed, PermanentDeliveryError, RetryableDeliveryError, StoreUnavailable
from bot.leases import Lease
from bot.logs import log_fields
from bot.metrics import DELIVERIES, DELIVERY_SECONDS
from bot.ports import ChannelStore, ChatAdapter, DeliveryStore
from bot.types import (
    ChannelRef,
    Delivery,
    DeliveryKind,
    DeliveryState,
    Digest,
    FollowUp,
    Message,
    Platform,
    WeeklyRollup,
)

logger = logging.getLogger(__name__)

LOOK_BACK = timedelta(minutes=5)
"""Parts are looked for from a little before the claim: the clocks of replicas may differ slightly."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        backoff = rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))
        return max(backoff, retry_after or 0.0)


class Outcome(enum.StrEnum):
    SENT = "sent"
    RECOVERED = "recovered"  # every part had landed already (found by its marker) and is now recorded
    ALREADY = "already"  # someone already delivered it
    BUSY = "busy"  # a live replica (or this one) is delivering it right now
    FAILED = "failed"  # gave up for now after retries; recovery retries
    PAUSED = "paused"  # permanent error: the channel's digest is paused
    NO_ADAPTER = "no_adapter"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Outcome
    delivery: Delivery | None = None
    detail: str = ""


Sleep = Callable[[float], Awaitable[None]]
Revive = Callable[[Delivery], Awaitable[Message]]
"""The message a claim stored (`Delivery.content`), for a delivery that is taken over."""


def posted_under(message: Message) -> str | None:
    """The message whose thread `message` goes in (a follow-up's paper message): where its parts are."""
    return message.parent if isinstance(message, FollowUp) else None


class Deliverer:
    def __init__(
        self,
        deliveries: DeliveryStore,
        channels: ChannelStore,
        adapters: Mapping[Platform, ChatAdapter],
        clock: Clock,
        *,
        replica_id: str,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        lease: Lease | None = None,
    ) -> None:
        """`lease`: this replica's, checked before each part (tools and tests that run alone have none)."""
        self._deliveries = deliveries
        self._channels = channels
        self._adapters = adapters
        self._clock = clock
        self.replica_id = replica_id
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._in_flight: set[str] = set()
        self._lease = lease

    async def deliver(
        self,
        ref: ChannelRef,
        kind: DeliveryKind,
        key: str,
        message: Message,
        paper_ids: Sequence[str] = (),
        *,
        content: str | None = None,
        revive: Revive | None = None,
    ) -> DeliveryResult:
        """Claim (ref, kind, key) and post `message`; or take over an unfinished claim and finish it.

        `content` is what the claim stores; `revive` turns a stored claim back into its message, so a
        takeover posts what the first claimer meant to post.
        """
        adapter = self._adapters.get(ref.platform)
        if adapter is None:
            return DeliveryResult(Outcome.NO_ADAPTER, detail=f"no {ref.platform.value} connection is configured")
        deliveries = self._deliveries
        now = self._clock.now()
        claim = await deliveries.claim(
            ref, kind, key, claimed_by=self.replica_id, now=now, paper_ids=paper_ids, content=content
        )
        if claim is not None:
            return await self._finish(adapter, claim, message, resumed=False)
        existing = await deliveries.get_by_key(ref, kind, key)
        if existing is None or existing.state in (DeliveryState.SENT, DeliveryState.SKIPPED):
            return DeliveryResult(Outcome.ALREADY, existing)
        return await self._take_over(adapter, existing, message, revive)

    async def finish(self, delivery: Delivery, revive: Revive) -> DeliveryResult:
        """Take over an unfinished claim and finish it with the message it stored (recovery)."""
        adapter = self._adapters.get(delivery.channel.platform)
        if adapter is None:
            return DeliveryResult(Outcome.NO_ADAPTER, detail=f"no {delivery.channel.platform.value} connection")
        if delivery.content is None:
            return DeliveryResult(Outcome.FAILED, delivery, "the claim stored no content to finish it with")
        return await self._take_over(adapter, delivery, None, revive)

    async def _take_over(
        self, adapter: ChatAdapter, existing: Delivery, message: Message | None, revive: Revive | None
    ) -> DeliveryResult:
        ref = existing.channel
        # Reserve the id before any await: two recovery passes of this process must not both take it.
        if existing.id in self._in_flight:
            return DeliveryResult(Outcome.BUSY, existing)
        self._in_flight.add(existing.id)
        try:
            taken = await self._deliveries.reclaim(existing.id, claimed_by=self.replica_id, now=self._clock.now())
            if taken is None:
                return DeliveryResult(Outcome.BUSY, existing)
            logger.info("delivery %s taken over by %s %s", taken.id, self.replica_id, _ids(ref))
            if revive is not None and taken.content is not None:
                message = await revive(taken)
            if message is None:
                return DeliveryResult(Outcome.FAILED, taken, "nothing to finish the delivery with")
            return await self._finish(adapter, taken, message, resumed=True)
        finally:
            self._in_flight.discard(existing.id)

    async def _finish(
        self, adapter: ChatAdapter, claim: Delivery, message: Message, *, resumed: bool
    ) -> DeliveryResult:
        self._in_flight.add(claim.id)
        ref = claim.channel
        fields = log_fields(
            platform=ref.platform.value, workspace=ref.workspace_id, channel=ref.channel_id, delivery=str(claim.id)
        )
        with fields:
            try:
                return await self._send(adapter, claim, message, resumed=resumed)
            except StoreUnavailable:
                # The claim stays as it is (this replica's while its lease lives); recovery finishes it.
                raise
            except LeaseLapsed as exc:
                # Not FAILED: the claim may be a peer's now. Whoever holds it (this replica's recovery, once
                # its lease is live again) looks for what landed and posts only the rest.
                DELIVERIES.labels(platform=ref.platform.value, outcome="busy").inc()
                logger.warning("delivery %s stopped %s: %s", claim.id, _ids(ref), exc)
                return DeliveryResult(Outcome.BUSY, claim, str(exc))
            except Exception:
                logger.exception("delivery %s failed unexpectedly %s", claim.id, _ids(claim.channel))
                await self._mark_failed(claim, "internal error")
                return DeliveryResult(Outcome.FAILED, claim, "internal error")
            finally:
                self._in_flight.discard(claim.id)

    async def _send(self, adapter: ChatAdapter, claim: Delivery, message: Message, *, resumed: bool) -> DeliveryResult:
        ref = claim.channel
        platform = ref.platform.value
        if isinstance(message, Digest | FollowUp | WeeklyRollup):
            message = replace(message, delivery_id=claim.id)
        ticket = self._lease.ticket() if self._lease is not None else None
        posted = await self._deliveries.parts(claim.id) if resumed else {}
        new_parts = 0

        async def still_held() -> None:
            if ticket is None or ticket.fresh():
                return
            # Stalled, or the lease lapsed since: posting on is safe only if the lease is live again and no
            # peer took the claim over meanwhile (with the lease live, none can take it from now on).
            if await ticket.confirm() and await self._deliveries.held_by(claim.id, self.replica_id):
                ticket.adopt()
                return
            raise LeaseLapsed(
                f"replica {self.replica_id} could not confirm it still holds this delivery "
                "(its lease lapsed, or the database is out of reach); posting no further part"
            )

        async def record(position: int, message_id: str) -> None:
            nonlocal new_parts
            # What landed is recorded first, whoever holds the claim now: it is true either way.
            await self._deliveries.record_part(claim.id, position, message_id, now=self._clock.now())
            posted[position] = message_id
            new_parts += 1
            await still_held()  # raised out of the adapter's loop: the next part is not posted

        # A resumed claim may have parts out that were never recorded (the claimer died in between).
        unsure = resumed
        last_error = ""
        for attempt in range(self._policy.attempts):
            if unsure:
                try:
                    found = await self._find_parts(adapter, claim, posted, posted_under(message))
                except RetryableDeliveryError as exc:
                    # Unknown what landed: never risk a duplicate; recovery looks again later.
                    await self._mark_failed(claim, exc.reason)
                    DELIVERIES.labels(platform=platform, outcome="failed").inc()
                    return DeliveryResult(Outcome.FAILED, claim, exc.reason)
                for position, message_id in sorted(found.items()):
                    if position not in posted:
                        await self._deliveries.record_part(claim.id, position, message_id, now=self._clock.now())
                        posted[position] = message_id
                unsure = False
            await still_held()
            try:
                sent = await adapter.send(ref, message, delivery_id=claim.id, posted=dict(posted), on_part=record)
            except RetryableDeliveryError as exc:
                last_error = exc.reason
                # A platform that answered with Retry-After (a 429) certainly did not post; anything else
                # (a timeout, a dropped connection, a 5xx) may have posted and only lost the answer.
                unsure = exc.retry_after is None
                DELIVERIES.labels(platform=platform, outcome="retry").inc()
                wait = self._policy.delay(attempt, exc.retry_after, self._rng)
                logger.warning(
                    "delivery %s retry %d in %.1fs (%d part(s) out) %s: %s",
                    claim.id,
                    attempt + 1,
                    wait,
                    len(posted),
                    _ids(ref),
                    exc.reason,
                )
                await self._sleep(wait)
                continue
            except PermanentDeliveryError as exc:
                await self._mark_failed(claim, exc.reason)
                await self._channels.pause(ref, exc.reason)
                DELIVERIES.labels(platform=platform, outcome="paused").inc()
                logger.warning("delivery %s failed permanently, digest paused %s: %s", claim.id, _ids(ref), exc.reason)
                return DeliveryResult(Outcome.PAUSED, claim, exc.reason)
            now = self._clock.now()
            await self._deliveries.mark_sent(claim.id, message_id=sent.message_id, now=now)
            # Every part found by its marker, none confirmed by an answer: what landed was recovered.
            outcome = Outcome.RECOVERED if new_parts == 0 else Outcome.SENT
            DELIVERIES.labels(platform=platform, outcome=outcome.value).inc()
            DELIVERY_SECONDS.labels(platform=platform).observe(max(0.0, (now - claim.claimed_at).total_seconds()))
            logger.info(
                "delivery %s %s as %s (%d part(s), %d posted now) %s",
                claim.id,
                outcome.value,
                sent.message_id,
                len(posted),
                new_parts,
                _ids(ref),
            )
            return DeliveryResult(outcome, claim)
        await self._mark_failed(claim, last_error or "gave up")
        DELIVERIES.labels(platform=platform, outcome="failed").inc()
        logger.error("delivery %s gave up after %d attempts %s", claim.id, self._policy.attempts, _ids(ref))
        return DeliveryResult(Outcome.FAILED, claim, last_error)

    async def _find_parts(
        self, adapter: ChatAdapter, delivery: Delivery, posted: Mapping[int, str], under: str | None
    ) -> dict[int, str]:
        since = delivery.claimed_at - LOOK_BACK
        for attempt in range(self._policy.attempts):
            try:
                return await adapter.find_parts(delivery.channel, delivery.id, since, posted, under=under)
            except RetryableDeliveryError as exc:
                await self._sleep(self._policy.delay(attempt, exc.retry_after, self._rng))
            except PermanentDeliveryError:
                return {}  # the channel is gone or closed to Paperboy: the post attempt will say why
        raise RetryableDeliveryError("could not check the channel for the parts already posted")

    async def _mark_failed(self, claim: Delivery, error: str) -> None:
        """FAILED, so any replica's recovery retries it; when the database is down, the claim stays ours."""
        try:
            await self._deliveries.mark_failed(claim.id, error=error, now=self._clock.now())
        except StoreUnavailable:
            logger.warning("delivery %s: could not record the failure (database unreachable)", claim.id)

    async def unfinished(self) -> list[Delivery]:
        """Claims to resolve: failed ones, those of dead replicas, and this replica's own not in flight."""
        found = await self._deliveries.unfinished(now=self._clock.now(), replica_id=self.replica_id)
        return [d for d in found if d.id not in self._in_flight]


def _ids(ref: ChannelRef) -> str:
    return f"platform={ref.platform.value} workspace={ref.workspace_id} channel={ref.channel_id}"

"""Posting exactly once as users see it (DESIGN §6): claim, send, record, retry, pause.

- A `deliveries` row is claimed before posting (unique per channel and digest day, or channel and
  paper; `INSERT ... ON CONFLICT DO NOTHING`). Only the claimer posts.
- The posted message carries the delivery id as a marker (Slack metadata, Discord nonce/footer).
- A claim found unfinished (its claimer died between post and record, or gave up) is taken over
  atomically and first resolved by asking the platform for the marker; only if the channel has no
  such message is it posted again. So a crash never produces a visible duplicate.
- Rate limits, 5xx and timeouts retry with exponential backoff and full jitter, never shorter than
  the platform's Retry-After. Permanent errors pause the channel's digest with a readable reason.
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
from bot.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.metrics import DELIVERIES, DELIVERY_SECONDS
from bot.ports import ChannelStore, ChatAdapter, DeliveryStore
from bot.types import ChannelRef, Delivery, DeliveryKind, DeliveryState, Digest, Message, Platform

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    # A claim older than this with no recorded result is taken to belong to a dead process.
    claim_ttl: timedelta = timedelta(minutes=15)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        backoff = rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))
        return max(backoff, retry_after or 0.0)


class Outcome(enum.StrEnum):
    SENT = "sent"
    RECOVERED = "recovered"  # an earlier post was found by its marker and recorded
    ALREADY = "already"  # someone already delivered it
    BUSY = "busy"  # another live process holds the claim
    FAILED = "failed"  # gave up for now after retries; the next run retries
    PAUSED = "paused"  # permanent error: the channel's digest is paused
    NO_ADAPTER = "no_adapter"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Outcome
    delivery: Delivery | None = None
    detail: str = ""


Sleep = Callable[[float], Awaitable[None]]


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
    ) -> None:
        self._deliveries = deliveries
        self._channels = channels
        self._adapters = adapters
        self._clock = clock
        self._replica = replica_id
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()

    async def deliver(
        self, ref: ChannelRef, kind: DeliveryKind, key: str, message: Message, paper_ids: Sequence[str] = ()
    ) -> DeliveryResult:
        adapter = self._adapters.get(ref.platform)
        if adapter is None:
            return DeliveryResult(Outcome.NO_ADAPTER, detail=f"no {ref.platform.value} connection is configured")
        deliveries = self._deliveries
        now = self._clock.now()
        claim = await deliveries.claim(ref, kind, key, claimed_by=self._replica, now=now, paper_ids=paper_ids)
        if claim is None:
            existing = await deliveries.get_by_key(ref, kind, key)
            if existing is None or existing.state in (DeliveryState.SENT, DeliveryState.SKIPPED):
                return DeliveryResult(Outcome.ALREADY, existing)
            taken = await deliveries.reclaim(
                existing.id, claimed_by=self._replica, now=now, stale_before=now - self._policy.claim_ttl
            )
            if taken is None:
                return DeliveryResult(Outcome.BUSY, existing)
            try:
                found = await self._find_marker(adapter, taken)
            except RetryableDeliveryError as exc:
                # Unknown whether it was posted: never risk a duplicate; the next run looks again.
                await deliveries.mark_failed(taken.id, error=exc.reason, now=self._clock.now())
                return DeliveryResult(Outcome.FAILED, taken, exc.reason)
            if found is not None:
                await deliveries.mark_sent(taken.id, message_id=found, now=self._clock.now())
                DELIVERIES.labels(platform=ref.platform.value, outcome="recovered").inc()
                logger.info("delivery %s found already posted %s; recorded", taken.id, _ids(ref))
                return DeliveryResult(Outcome.RECOVERED, taken)
            claim = taken
        return await self._send(adapter, claim, message)

    async def _find_marker(self, adapter: ChatAdapter, delivery: Delivery) -> str | None:
        # Look from a little before the first claim: clocks of replicas may differ slightly.
        since = delivery.claimed_at - timedelta(minutes=5)
        for attempt in range(self._policy.attempts):
            try:
                return await adapter.find_delivery(delivery.channel, delivery.id, since)
            except RetryableDeliveryError as exc:
                await self._sleep(self._policy.delay(attempt, exc.retry_after, self._rng))
            except PermanentDeliveryError:
                return None
        raise RetryableDeliveryError("could not check the channel for an earlier post")

    async def _send(self, adapter: ChatAdapter, claim: Delivery, message: Message) -> DeliveryResult:
        ref = claim.channel
        platform = ref.platform.value
        if isinstance(message, Digest):
            message = replace(message, delivery_id=claim.id)
        last_error = ""
        unsure = False
        for attempt in range(self._policy.attempts):
            if unsure:
                # The last attempt may have posted and only lost the answer (a timeout, a dropped
                # connection): look for the marker before posting again, or users see it twice.
                recovered = await self._resolve_unsure(adapter, claim)
                if recovered is not None:
                    return recovered
            try:
                sent = await adapter.send(ref, message, delivery_id=claim.id)
            except RetryableDeliveryError as exc:
                last_error = exc.reason
                # A platform that answered with Retry-After (a 429) certainly did not post.
                unsure = exc.retry_after is None
                DELIVERIES.labels(platform=platform, outcome="retry").inc()
                wait = self._policy.delay(attempt, exc.retry_after, self._rng)
                logger.warning(
                    "delivery %s retry %d in %.1fs %s: %s", claim.id, attempt + 1, wait, _ids(ref), exc.reason
                )
                await self._sleep(wait)
                continue
            except PermanentDeliveryError as exc:
                now = self._clock.now()
                await self._deliveries.mark_failed(claim.id, error=exc.reason, now=now)
                await self._channels.pause(ref, exc.reason)
                DELIVERIES.labels(platform=platform, outcome="paused").inc()
                logger.warning("delivery %s failed permanently, digest paused %s: %s", claim.id, _ids(ref), exc.reason)
                return DeliveryResult(Outcome.PAUSED, claim, exc.reason)
            now = self._clock.now()
            await self._deliveries.mark_sent(claim.id, message_id=sent.message_id, now=now)
            DELIVERIES.labels(platform=platform, outcome="sent").inc()
            DELIVERY_SECONDS.labels(platform=platform).observe(max(0.0, (now - claim.claimed_at).total_seconds()))
            logger.info("delivery %s sent as %s %s", claim.id, sent.message_id, _ids(ref))
            return DeliveryResult(Outcome.SENT, claim)
        await self._deliveries.mark_failed(claim.id, error=last_error or "gave up", now=self._clock.now())
        DELIVERIES.labels(platform=platform, outcome="failed").inc()
        logger.error("delivery %s gave up after %d attempts %s", claim.id, self._policy.attempts, _ids(ref))
        return DeliveryResult(Outcome.FAILED, claim, last_error)

    async def _resolve_unsure(self, adapter: ChatAdapter, claim: Delivery) -> DeliveryResult | None:
        """After an ambiguous failure: the result if the message did land (or if that is unknown), else None."""
        ref = claim.channel
        try:
            found = await self._find_marker(adapter, claim)
        except RetryableDeliveryError as exc:
            # Unknown whether it was posted: never risk a duplicate; the next run looks again.
            await self._deliveries.mark_failed(claim.id, error=exc.reason, now=self._clock.now())
            DELIVERIES.labels(platform=ref.platform.value, outcome="failed").inc()
            return DeliveryResult(Outcome.FAILED, claim, exc.reason)
        if found is None:
            return None
        await self._deliveries.mark_sent(claim.id, message_id=found, now=self._clock.now())
        DELIVERIES.labels(platform=ref.platform.value, outcome="recovered").inc()
        logger.info("delivery %s found posted after a lost answer %s; recorded", claim.id, _ids(ref))
        return DeliveryResult(Outcome.RECOVERED, claim)

    async def unfinished(self) -> list[Delivery]:
        """Claims whose process died or gave up: the recovery pass resolves them."""
        return await self._deliveries.unfinished(older_than=self._clock.now() - self._policy.claim_ttl)


def _ids(ref: ChannelRef) -> str:
    return f"platform={ref.platform.value} workspace={ref.workspace_id} channel={ref.channel_id}"

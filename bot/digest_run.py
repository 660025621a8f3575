"""Running a channel's digest: decide, select, deliver, record. The schedule and `digest now` share it.

A run only claims and posts; correctness never depends on the scheduler firing exactly once: a second
run for the same channel and local day finds the claim and does nothing.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.clock import Clock
from bot.delivery import Deliverer, Outcome
from bot.digest import DigestBuilder, digest_content, local_day, revive_digest
from bot.errors import StoreUnavailable
from bot.metrics import DIGESTS
from bot.outage import StoreHealth
from bot.ports import ChannelStore, DeliveryStore, PaperStore
from bot.types import Channel, ChannelRef, Delivery, DeliveryKind, DeliveryState, Digest, Message

logger = logging.getLogger(__name__)


class RunOutcome(enum.StrEnum):
    SENT = "sent"
    RECOVERED = "recovered"
    ALREADY = "already"
    EMPTY = "empty"  # nothing new: recorded as skipped, nothing posted
    MISSED = "missed"  # the slot passed while the bot was down, beyond the grace period
    OFF = "off"
    PAUSED = "paused"
    WEEKEND = "weekend"
    FAILED = "failed"
    BUSY = "busy"
    UNKNOWN_CHANNEL = "unknown_channel"
    NO_ADAPTER = "no_adapter"


@dataclass(frozen=True, slots=True)
class DigestRun:
    channel: ChannelRef
    outcome: RunOutcome
    day: date | None = None
    papers: int = 0
    detail: str = ""


_FROM_DELIVERY = {
    Outcome.SENT: RunOutcome.SENT,
    Outcome.RECOVERED: RunOutcome.RECOVERED,
    Outcome.ALREADY: RunOutcome.ALREADY,
    Outcome.BUSY: RunOutcome.BUSY,
    Outcome.FAILED: RunOutcome.FAILED,
    Outcome.PAUSED: RunOutcome.PAUSED,
    Outcome.NO_ADAPTER: RunOutcome.NO_ADAPTER,
}


class DigestRunner:
    def __init__(
        self,
        channels: ChannelStore,
        deliveries: DeliveryStore,
        digests: DigestBuilder,
        papers: PaperStore,
        clock: Clock,
        deliverer: Deliverer,
        *,
        health: StoreHealth | None = None,
        concurrency: int = 128,
    ) -> None:
        self._channels = channels
        self._deliveries = deliveries
        self._digests = digests
        self._papers = papers
        self._health = health or StoreHealth(clock)
        self._clock = clock
        self._deliverer = deliverer
        self._concurrency = concurrency

    async def run(
        self, ref: ChannelRef, *, manual: bool = False, day: date | None = None, finishing: bool = False
    ) -> DigestRun:
        """Deliver `ref`'s digest for its local day (or `day`), unless it is off, paused or already done.

        `manual` (`digest now`) ignores the pause, the on/off and weekend settings but still never
        re-posts. `finishing` (recovery finishing a claimed digest) ignores on/off and weekends, which
        were decided when it was claimed, but not a pause: a channel paused for a permanent error is
        retried when a manager turns its digest on again.
        """
        channel = await self._channels.get(ref)
        if channel is None:
            return DigestRun(ref, RunOutcome.UNKNOWN_CHANNEL)
        now = self._clock.now()
        today = day or local_day(channel, now)
        decided = manual or finishing
        result: DigestRun
        if channel.paused_reason and not manual:
            result = DigestRun(ref, RunOutcome.PAUSED, today, detail=channel.paused_reason)
        elif not channel.digest_enabled and not decided:
            result = DigestRun(ref, RunOutcome.OFF, today)
        elif not channel.settings.weekends and today.weekday() >= 5 and not decided:
            result = DigestRun(ref, RunOutcome.WEEKEND, today)
        else:
            result = await self._deliver(channel, today)
        DIGESTS.labels(platform=ref.platform.value, outcome=result.outcome.value).inc()
        return result

    async def _deliver(self, channel: Channel, today: date) -> DigestRun:
        ref = channel.ref
        key = today.isoformat()
        existing = await self._deliveries.get_by_key(ref, DeliveryKind.DIGEST, key)
        if existing is not None and existing.state in (DeliveryState.SENT, DeliveryState.SKIPPED):
            return DigestRun(ref, RunOutcome.ALREADY, today)
        now = self._clock.now()
        digest = await self._digests.build(channel, now=now, day=today)
        if not digest.entries and not channel.settings.empty and existing is None:
            claim = await self._deliveries.claim(
                ref, DeliveryKind.DIGEST, key, claimed_by="digest", now=now, paper_ids=()
            )
            if claim is None:
                return DigestRun(ref, RunOutcome.ALREADY, today)
            await self._deliveries.mark_skipped(claim.id, reason="nothing new", now=now)
            await self._channels.set_last_digest(ref, now)
            return DigestRun(ref, RunOutcome.EMPTY, today)
        if not digest.entries:
            digest = Digest(
                ref, today, (), digest.papers_day, note="Nothing new for this channel today.", threads=digest.threads
            )
        result = await self._deliverer.deliver(
            ref,
            DeliveryKind.DIGEST,
            key,
            digest,
            paper_ids=[e.paper.id for e in digest.entries],
            content=digest_content(digest),
            revive=self._revive,
        )
        outcome = _FROM_DELIVERY[result.outcome]
        if outcome in (RunOutcome.SENT, RunOutcome.RECOVERED):
            await self._channels.set_last_digest(ref, self._clock.now())
        if outcome is RunOutcome.PAUSED:
            logger.warning("digest paused the channel %s: %s", ref.key, result.detail)
        return DigestRun(ref, outcome, today, len(digest.entries), result.detail)

    async def run_many(
        self, refs: Sequence[ChannelRef], *, days: Mapping[ChannelRef, date] | None = None
    ) -> list[DigestRun]:
        """Fan out across channels concurrently; one channel's failure never blocks another.

        Platform pacing lives in the adapters (Slack: one post per second per channel; Discord: its
        per-route buckets and a global budget), so channels of one platform proceed in parallel.
        """
        gate = asyncio.Semaphore(self._concurrency)

        async def one(ref: ChannelRef) -> DigestRun:
            async with gate:
                return await self.run_safely(ref, day=(days or {}).get(ref))

        return list(await asyncio.gather(*(one(r) for r in refs)))

    async def run_safely(self, ref: ChannelRef, *, day: date | None = None, finishing: bool = False) -> DigestRun:
        """`run`, with every failure turned into a FAILED run: one channel never stops the others."""
        try:
            return await self.run(ref, day=day, finishing=finishing)
        except StoreUnavailable as exc:
            self._health.unavailable(exc, f"running the digest of {ref.key}")
            return DigestRun(ref, RunOutcome.FAILED, day, detail="database unreachable")
        except Exception:
            logger.exception("digest run failed channel=%s", ref.key)
            return DigestRun(ref, RunOutcome.FAILED, day, detail="internal error")

    async def _revive(self, delivery: Delivery) -> Message:
        assert delivery.content is not None
        return await revive_digest(delivery.content, delivery.channel, self._papers)

    async def recover(self, unfinished: Sequence[Delivery] | None = None) -> list[DigestRun]:
        """Finish the digests that crashed, died or gave up: failed claims, dead replicas' claims, this
        one's orphans (`unfinished`, or read now).

        Each is taken over and finished part by part: what landed is found by its marker and recorded,
        only the missing parts are posted.
        """
        if unfinished is None:
            try:
                unfinished = await self._deliverer.unfinished()
            except StoreUnavailable as exc:
                self._health.unavailable(exc, "looking for unfinished deliveries")
                return []
        due: list[tuple[ChannelRef, date]] = []
        for d in unfinished:
            if d.kind is not DeliveryKind.DIGEST:
                continue
            try:
                due.append((d.channel, date.fromisoformat(d.key)))
            except ValueError:
                continue
        # Concurrently, like a fan-out: a dead replica may have left thousands of channels half done.
        gate = asyncio.Semaphore(self._concurrency)

        async def one(ref: ChannelRef, day: date) -> DigestRun:
            async with gate:
                return await self.run_safely(ref, day=day, finishing=True)

        return list(await asyncio.gather(*(one(ref, day) for ref, day in due)))

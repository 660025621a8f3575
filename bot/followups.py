"""Papers that keep moving: a reply in the paper's thread when its code, models, datasets or Spaces appear.

Whatever brings the news counts: the daily feed's re-fetch (a `githubRepo` that appears), the paper-info
poll below (`GET /api/papers/{id}`: linked models, datasets and Spaces), a file ingest. Storage remembers
when Paperboy first saw each kind per paper; a channel that was sent the paper before that gets one
follow-up of that kind, posted in the thread of the message that carried the paper, through a delivery
claim (kind `followup`, key `<paper>:<kind>`): once per channel, paper and kind, through crashes and
replicas, for papers posted within `window` (30 days by default), where `settings followups` is on.

The poll is the Hub's guest: about 500 calls per 5 minutes are allowed anonymously (1,000 with a token),
shared with the hourly ingest and searches. It spends at most `budget` calls per 5 minutes, evenly spaced,
on the papers posted within the window, round-robin from where the last run stopped, on one replica at a
time (an advisory lock). `bench/followups.py` prints what one full pass over 10,000 papers costs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.delivery import Deliverer, DeliveryResult, Outcome
from bot.errors import SourceError, SourceRateLimited
from bot.ports import PaperStore, RemotePapers, Store
from bot.types import ArtifactKind, Delivery, DeliveryKind, FollowUp, FollowUpDue, Message, Paper

logger = logging.getLogger(__name__)

POLL_LOCK = "paperboy-paper-poll"
POLL_CURSOR = "poll:cursor"
POLL_PERIOD = timedelta(minutes=5)
"""The Hub counts its budget per 5 minutes."""
FOLLOWUP_CONCURRENCY = 32
STORE_EVERY = 50
"""Calls between two writes of the poll (at the default pace, about 40 seconds)."""

Sleep = Callable[[float], Awaitable[None]]


def follow_up(due: FollowUpDue, paper: Paper) -> FollowUp:
    """The message for one piece of news: what appeared, by name, and how many more."""
    match due.kind:
        case ArtifactKind.CODE:
            repo = (paper.github_repo or "").removeprefix("https://").removeprefix("http://")
            return FollowUp(due.channel, paper, due.kind, due.parent, repo, stars=paper.github_stars)
        case ArtifactKind.MODEL:
            names, total = paper.models, paper.models_total
        case ArtifactKind.DATASET:
            names, total = paper.datasets, paper.datasets_total
        case ArtifactKind.SPACE:
            names, total = paper.spaces, paper.spaces_total
    first = names[0] if names else ""
    return FollowUp(due.channel, paper, due.kind, due.parent, first, more=max(0, total - (1 if first else 0)))


def followup_key(paper_id: str, kind: ArtifactKind) -> str:
    """The delivery key of a follow-up: once per channel, paper and kind."""
    return f"{paper_id}:{kind.value}"


def followup_content(message: FollowUp) -> str:
    """What a follow-up's claim stores, so whoever finishes it posts the same line."""
    return json.dumps(
        {
            "paper": message.paper.id,
            "kind": message.kind.value,
            "parent": message.parent,
            "detail": message.detail,
            "more": message.more,
            "stars": message.stars,
        }
    )


async def revive_followup(delivery: Delivery, papers: PaperStore) -> Message:
    """The follow-up a claim stored (the paper read back from the store)."""
    assert delivery.content is not None
    data = json.loads(delivery.content)
    paper = await papers.get(data["paper"])
    if paper is None:
        raise LookupError(f"the paper {data['paper']} of follow-up {delivery.id} is not stored")
    kind = ArtifactKind(data["kind"])
    return FollowUp(delivery.channel, paper, kind, data["parent"], data["detail"], data["more"], data["stars"])


@dataclass(frozen=True, slots=True)
class FollowUpRun:
    due: int
    results: tuple[DeliveryResult, ...]

    @property
    def summary(self) -> str:
        posted = sum(1 for r in self.results if r.outcome.value in ("sent", "recovered"))
        return f"{self.due} follow-ups due, {posted} posted"


class FollowUps:
    def __init__(self, store: Store, deliverer: Deliverer, clock: Clock, *, window: timedelta) -> None:
        self._store = store
        self._deliverer = deliverer
        self._clock = clock
        self._window = window

    async def run(self) -> FollowUpRun:
        """Post every follow-up due now (each through its own claim: a second run posts nothing twice)."""
        due = await self._store.followups.due(posted_since=self._clock.now() - self._window)
        if not due:
            return FollowUpRun(0, ())
        papers = await self._store.papers.get_many([d.paper_id for d in due])
        gate = asyncio.Semaphore(FOLLOWUP_CONCURRENCY)

        async def one(d: FollowUpDue) -> DeliveryResult | None:
            paper = papers.get(d.paper_id)
            if paper is None:
                return None
            message = follow_up(d, paper)
            async with gate:
                return await self._deliverer.deliver(
                    d.channel,
                    DeliveryKind.FOLLOWUP,
                    followup_key(d.paper_id, d.kind),
                    message,
                    content=followup_content(message),
                    revive=self._revive,
                )

        results = [r for r in await asyncio.gather(*(one(d) for d in due)) if r is not None]
        logger.info("follow-ups: %d due, %d delivered", len(due), len(results))
        return FollowUpRun(len(due), tuple(results))

    async def recover(self, unfinished: Sequence[Delivery]) -> list[DeliveryResult]:
        """Finish the follow-ups a crash, a dead replica or a failure left unfinished."""
        gate = asyncio.Semaphore(FOLLOWUP_CONCURRENCY)

        async def one(delivery: Delivery) -> DeliveryResult | None:
            channel = await self._store.channels.get(delivery.channel)
            if channel is None or channel.paused_reason:
                return None  # a paused channel is retried when a manager turns it on again
            async with gate:
                return await self._deliverer.finish(delivery, self._revive)

        mine = [d for d in unfinished if d.kind is DeliveryKind.FOLLOWUP]
        results = await asyncio.gather(*(one(d) for d in mine))
        return [r for r in results if r is not None and r.outcome is not Outcome.BUSY]

    async def _revive(self, delivery: Delivery) -> Message:
        return await revive_followup(delivery, self._store.papers)


@dataclass(frozen=True, slots=True)
class PollRun:
    calls: int
    updated: int
    errors: int
    watched: int
    skipped: bool = False

    @property
    def summary(self) -> str:
        if self.skipped:
            return "another replica is polling the Hub"
        return f"{self.calls} paper-info calls for {self.watched} watched papers, {self.updated} updated"


class PaperInfoPoll:
    """Re-reads the Hub's page of papers posted within the window, at most `budget` calls per 5 minutes."""

    def __init__(
        self,
        remote: RemotePapers,
        store: Store,
        clock: Clock,
        *,
        window: timedelta,
        budget: int,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if budget < 1:
            raise ValueError("the poll needs a budget of at least one call per 5 minutes")
        self._remote = remote
        self._store = store
        self._clock = clock
        self._window = window
        self._budget = budget
        self._sleep = sleep

    @property
    def spacing(self) -> float:
        """Seconds between two calls: the budget spread evenly over the Hub's 5 minutes."""
        return POLL_PERIOD.total_seconds() / self._budget

    async def run(self, *, calls: int | None = None) -> PollRun:
        """One round: up to `calls` (default: the 5-minute budget) papers, from where the last one stopped."""
        async with self._store.advisory_lock(POLL_LOCK) as acquired:
            if not acquired:
                return PollRun(0, 0, 0, 0, skipped=True)
            watched = await self._store.followups.posted_since(self._clock.now() - self._window)
            if not watched:
                return PollRun(0, 0, 0, 0)
            cursor = await self._store.kv.get(POLL_CURSOR) or ""
            start = next((i for i, pid in enumerate(watched) if pid > cursor), 0)
            order = watched[start:] + watched[:start]
            limit = min(len(order), calls if calls is not None else self._budget)
            made = updated = errors = 0
            # Papers and the cursor are stored in batches: one write per paper would cost a commit each
            # (tens of milliseconds on a disk) for what is mostly unchanged.
            pending: list[Paper] = []
            last = ""

            async def flush() -> None:
                nonlocal updated
                if pending:
                    updated += (await self._store.papers.upsert(pending, seen_at=self._clock.now())).updated
                    pending.clear()
                if last:
                    await self._store.kv.set(POLL_CURSOR, last)

            try:
                for paper_id in order[:limit]:
                    if made:
                        await self._sleep(self.spacing)
                    made += 1
                    try:
                        paper = await self._remote.paper(paper_id)
                    except SourceRateLimited as exc:
                        errors += 1
                        logger.warning("paper-info poll: %s; the next round starts with this paper", exc)
                        break
                    except SourceError as exc:
                        errors += 1
                        logger.warning("paper-info poll: %s: %s", paper_id, exc)
                        paper = None
                    last = paper_id
                    if paper is not None:
                        pending.append(paper)
                    if made % STORE_EVERY == 0:
                        await flush()
            finally:
                await flush()
            logger.info("paper-info poll: %d calls, %d papers updated, %d errors", made, updated, errors)
            return PollRun(made, updated, errors, len(watched))

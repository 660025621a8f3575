"""The weekly rollup: once a week, per topic, what matched and the best three; and where to see more.

`settings weekly on [monday|...]` turns it on for a channel (Monday by default); it is posted at the
channel's digest time on that day, through a delivery claim (kind `weekly`, key the ISO week it is
posted in), so it goes out once per channel and week through crashes and replicas. The week is the
seven days before the day it is posted. A rollup missed while Paperboy was down is caught up on the same
day (like a digest within its grace period), never days later.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.delivery import Deliverer, DeliveryResult, Outcome
from bot.digest import local_day
from bot.ports import ChannelStore, LibraryStore, PaperStore, SubscriptionStore
from bot.query import QuerySyntaxError, parse
from bot.topic_index import PaperIndex
from bot.types import (
    Channel,
    ChannelRef,
    Delivery,
    DeliveryKind,
    Message,
    Paper,
    ReadingRole,
    TopicWeek,
    WeeklyRollup,
)

logger = logging.getLogger(__name__)

TOP = 3


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_slot(channel: Channel, now: datetime) -> datetime | None:
    """Today's rollup time in the channel's timezone, when today is its weekly day and the time has passed."""
    if channel.settings.weekly_day is None:
        return None
    local = now.astimezone(ZoneInfo(channel.timezone))
    if local.weekday() != channel.settings.weekly_day:
        return None
    slot = datetime.combine(local.date(), channel.digest_time, ZoneInfo(channel.timezone))
    return slot if slot <= local else None


def rollup_content(rollup: WeeklyRollup) -> str:
    """What a rollup's claim stores, so whoever finishes it posts the same counts."""
    return json.dumps(
        {
            "week": rollup.week,
            "start": rollup.start.isoformat(),
            "end": rollup.end.isoformat(),
            "topics": [{"query": t.query, "matched": t.matched, "top": [p.id for p in t.top]} for t in rollup.topics],
            "liked": [p.id for p in rollup.liked],
            "reading": [[p.id, line] for p, line in rollup.reading],
        }
    )


async def revive_rollup(delivery: Delivery, papers: PaperStore) -> Message:
    assert delivery.content is not None
    data = json.loads(delivery.content)
    reading = [(pid, line) for pid, line in data.get("reading", [])]  # claims from before 0004 have none
    ids = [i for t in data["topics"] for i in t["top"]] + list(data["liked"]) + [pid for pid, _ in reading]
    found = await papers.get_many(ids)
    topics = tuple(
        TopicWeek(t["query"], t["matched"], tuple(found[i] for i in t["top"] if i in found)) for t in data["topics"]
    )
    liked = tuple(found[i] for i in data["liked"] if i in found)
    return WeeklyRollup(
        delivery.channel,
        data["week"],
        date.fromisoformat(data["start"]),
        date.fromisoformat(data["end"]),
        topics,
        liked,
        tuple((found[pid], line) for pid, line in reading if pid in found),
    )


class WeeklyRollups:
    def __init__(
        self,
        channels: ChannelStore,
        subscriptions: SubscriptionStore,
        papers: PaperStore,
        deliverer: Deliverer,
        clock: Clock,
        library: LibraryStore | None = None,
    ) -> None:
        self._library = library
        self._channels = channels
        self._subscriptions = subscriptions
        self._papers = papers
        self._deliverer = deliverer
        self._clock = clock

    async def build(self, channel: Channel, *, now: datetime) -> WeeklyRollup:
        """The rollup `channel` gets at `now`: the seven days before its local today."""
        today = local_day(channel, now)
        end = today - timedelta(days=1)
        start = end - timedelta(days=6)
        papers = [p for p in await self._papers.arrived_between(start, end) if not p.withdrawn]
        index = PaperIndex(papers)
        topics: list[TopicWeek] = []
        for sub in await self._subscriptions.list(channel.ref):
            try:
                ids = index.evaluate(parse(sub.query))
            except QuerySyntaxError:
                continue
            found = sorted((index.by_id[i] for i in ids), key=lambda p: (-p.upvotes, p.id))
            topics.append(TopicWeek(sub.query, len(found), tuple(found[:TOP])))
        reading = await self._reading(channel.ref, start, end)
        # Keyed by the week it is posted in: one rollup a calendar week, even if the weekday changes.
        return WeeklyRollup(channel.ref, iso_week(today), start, end, tuple(topics), reading=reading)

    async def _reading(self, ref: ChannelRef, start: date, end: date) -> tuple[tuple[Paper, str], ...]:
        """The week's talks (their day in the week) and what people said they read (during the week)."""
        if self._library is None:
            return ()
        lines: dict[str, list[str]] = {}
        for plan in await self._library.readings(ref):
            if plan.role is ReadingRole.PRESENTS and plan.day is not None and start <= plan.day <= end:
                lines.setdefault(plan.paper_id, []).append(f"presented by {plan.who} on {plan.day:%a} {plan.day.day}")
            elif plan.role is ReadingRole.READS and start <= plan.at.date() <= end:
                lines.setdefault(plan.paper_id, []).append(f"read by {plan.who}")
        found = await self._papers.get_many(list(lines))
        return tuple((found[pid], " · ".join(parts)) for pid, parts in lines.items() if pid in found)

    async def run(self, ref: ChannelRef) -> DeliveryResult | None:
        """Post this week's rollup to `ref` (None when the channel has it off, is paused or unknown)."""
        channel = await self._channels.get(ref)
        if channel is None or channel.settings.weekly_day is None or channel.paused_reason:
            return None
        rollup = await self.build(channel, now=self._clock.now())
        result = await self._deliverer.deliver(
            ref, DeliveryKind.WEEKLY, rollup.week, rollup, content=rollup_content(rollup), revive=self._revive
        )
        logger.info("weekly rollup %s channel=%s: %s", rollup.week, ref.key, result.outcome.value)
        return result

    async def catch_up(self) -> list[DeliveryResult]:
        """Post the rollups due today whose time passed (the job by hand, or after a restart or outage)."""
        now = self._clock.now()
        results: list[DeliveryResult] = []
        for channel in await self._channels.all():
            if weekly_slot(channel, now) is None or channel.paused_reason:
                continue
            result = await self.run(channel.ref)
            if result is not None and result.outcome is not Outcome.ALREADY:
                results.append(result)
        return results

    async def recover(self, unfinished: Sequence[Delivery]) -> list[DeliveryResult]:
        """Finish the rollups a crash, a dead replica or a failure left unfinished."""
        results: list[DeliveryResult] = []
        for delivery in unfinished:
            if delivery.kind is not DeliveryKind.WEEKLY:
                continue
            channel = await self._channels.get(delivery.channel)
            if channel is None or channel.paused_reason:
                continue
            result = await self._deliverer.finish(delivery, self._revive)
            if result.outcome is not Outcome.BUSY:
                results.append(result)
        return results

    async def _revive(self, delivery: Delivery) -> Message:
        return await revive_rollup(delivery, self._papers)

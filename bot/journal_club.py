"""Journal club reminders: the day before a talk, the channel is told who presents what.

A talk planned with `present` (or the "I'll present it" button) is reminded once, in the channel's own
timezone, on the day before its day, from the channel's digest time on (so it arrives with the morning
digest, not at midnight). Each reminder is a delivery claim (kind `reminder`, key
`<paper id>:<talk day>`), so it is posted once per channel and talk through crashes and replicas, and a
talk moved to another day gets its own reminder. Run by hand: `paperboy jobs run reminders --at T`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.delivery import Deliverer, DeliveryResult, Outcome
from bot.ports import ChannelStore, LibraryStore, PaperStore
from bot.types import Channel, Delivery, DeliveryKind, Message, Paper, Reading, TextReply

logger = logging.getLogger(__name__)

REMINDER_PERIOD = timedelta(minutes=15)
"""How often the scheduler looks for reminders due: a reminder goes out within this of the digest time."""


def reminder_text(talk: Reading, paper: Paper) -> str:
    day = talk.day
    assert day is not None
    return (
        f"📅 Journal club tomorrow ({day:%a} {day.day} {day:%b}): {talk.who} presents “{paper.title[:200]}” "
        f"[{paper.id}] {paper.arxiv_url}"
    )


def reminder_due(channel: Channel, talk_day: date, now: datetime) -> bool:
    """Whether `now` is on the day before `talk_day` in the channel's timezone, at or after its digest time."""
    local = now.astimezone(ZoneInfo(channel.timezone))
    if local.date() != talk_day - timedelta(days=1):
        return False
    return local.time() >= channel.digest_time


class Reminders:
    def __init__(
        self, channels: ChannelStore, library: LibraryStore, papers: PaperStore, deliverer: Deliverer, clock: Clock
    ) -> None:
        self._channels = channels
        self._library = library
        self._papers = papers
        self._deliverer = deliverer
        self._clock = clock

    async def run(self) -> list[DeliveryResult]:
        """Post every reminder due now (one pass; a reminder already posted is left alone)."""
        now = self._clock.now()
        # Any timezone's "tomorrow" is within a day of UTC's: look a little wider, decide per channel.
        start, end = now.date(), now.date() + timedelta(days=2)
        talks = await self._library.talks_between(start, end)
        channels = {c.ref: c for c in await self._channels.all()}
        papers = await self._papers.get_many([t.paper_id for t in talks])
        results: list[DeliveryResult] = []
        for talk in talks:
            channel = channels.get(talk.channel)
            paper = papers.get(talk.paper_id)
            if channel is None or paper is None or talk.day is None or channel.paused_reason:
                continue
            if not reminder_due(channel, talk.day, now):
                continue
            text = reminder_text(talk, paper)
            key = f"{talk.paper_id}:{talk.day.isoformat()}"
            result = await self._deliverer.deliver(
                talk.channel, DeliveryKind.REMINDER, key, TextReply(text), (paper.id,), content=text, revive=_revive
            )
            logger.info("reminder %s channel=%s: %s", key, talk.channel.key, result.outcome.value)
            if result.outcome is not Outcome.ALREADY:
                results.append(result)
        return results

    async def recover(self, unfinished: Sequence[Delivery]) -> list[DeliveryResult]:
        """Finish the reminders a crash, a dead replica or a failure left unfinished."""
        results: list[DeliveryResult] = []
        for delivery in unfinished:
            if delivery.kind is not DeliveryKind.REMINDER:
                continue
            result = await self._deliverer.finish(delivery, _revive)
            if result.outcome is not Outcome.BUSY:
                results.append(result)
        return results


async def _revive(delivery: Delivery) -> Message:
    assert delivery.content is not None
    return TextReply(delivery.content)

"""Inbound events are taken once: the log of event ids a platform may deliver again.

Slack retries an event it thinks failed (same `event_id`, `X-Slack-Retry-Num`), a signed request can be
replayed within Slack's five-minute timestamp window, and Discord may hand a gateway session an
interaction again after a resume. Adapters ask `InboundLog.first_time` before running anything; in
production the log is the database (`storage.inbound`), shared by every replica. `MemoryInboundLog` is
the fallback of an adapter built without one (a test, a one-off process).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

RETENTION = timedelta(hours=1)
"""How long an event id is remembered: past Slack's retries (about 5 minutes after the first delivery),
its signature window (5 minutes) and Discord's interaction tokens (15 minutes)."""

MAX_SOURCE = 32
MAX_EVENT_ID = 128


def check_key(source: str, event_id: str) -> None:
    """Both parts are the adapter's own, bounded values; anything else is a bug worth failing on."""
    if not 0 < len(source) <= MAX_SOURCE or not 0 < len(event_id) <= MAX_EVENT_ID:
        raise ValueError(f"inbound event key out of bounds: {source[:40]!r} / {len(event_id)} characters")


class MemoryInboundLog:
    """An `InboundLog` for one process: at most `limit` ids, each kept for `RETENTION`."""

    def __init__(self, limit: int = 100_000) -> None:
        self._limit = limit
        self._seen: OrderedDict[tuple[str, str], datetime] = OrderedDict()

    async def first_time(self, source: str, event_id: str, *, now: datetime) -> bool:
        check_key(source, event_id)
        while self._seen and (len(self._seen) >= self._limit or next(iter(self._seen.values())) < now - RETENTION):
            self._seen.popitem(last=False)
        key = (source, event_id)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True

"""Follow-ups due: papers a channel was sent that have since gained code, a model, a dataset or a Space.

A paper posted in a channel at P gets a follow-up of kind K there when Paperboy first saw it with K
after P (`papers.<kind>_seen_at`), it was posted within the window, the channel wants follow-ups, and no
follow-up delivery of (paper, K) exists in the channel yet. One query per kind, joined in SQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, exists, literal, select, true
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.types import ArtifactKind, ChannelRef, DeliveryKind, FollowUpDue, Platform
from storage.models import ChannelRow, DeliveryRow, PaperRow, PostedPaperRow

_POSTED = cast(Table, PostedPaperRow.__table__)
_CHANNELS = cast(Table, ChannelRow.__table__)
_PAPERS = cast(Table, PaperRow.__table__)
_DELIVERIES = cast(Table, DeliveryRow.__table__)
_SEEN = {
    ArtifactKind.CODE: "code_seen_at",
    ArtifactKind.MODEL: "models_seen_at",
    ArtifactKind.DATASET: "datasets_seen_at",
    ArtifactKind.SPACE: "spaces_seen_at",
}


class FollowUpRepository:
    def __init__(self, engine: AsyncEngine, dialect: str) -> None:
        self._engine = engine
        self._dialect = dialect

    def _due_query(self, kind: ArtifactKind, posted_since: datetime) -> Any:
        seen = _PAPERS.c[_SEEN[kind]]
        carrier = _DELIVERIES.alias("carrier")
        done = _DELIVERIES.alias("done")
        already = exists().where(
            done.c.channel_pk == _POSTED.c.channel_pk,
            done.c.kind == DeliveryKind.FOLLOWUP.value,
            done.c.key == _POSTED.c.paper_id + literal(f":{kind.value}"),
        )
        return (
            select(
                _CHANNELS.c.platform,
                _CHANNELS.c.workspace_id,
                _CHANNELS.c.channel_id,
                _POSTED.c.paper_id,
                _POSTED.c.posted_at,
                carrier.c.message_id,
            )
            .select_from(_POSTED)
            .join(_CHANNELS, _CHANNELS.c.id == _POSTED.c.channel_pk)
            .join(_PAPERS, _PAPERS.c.id == _POSTED.c.paper_id)
            .outerjoin(carrier, carrier.c.id == _POSTED.c.delivery_id)
            .where(
                _POSTED.c.posted_at >= posted_since,
                _CHANNELS.c.followups == true(),
                _CHANNELS.c.paused_reason.is_(None),
                and_(seen.is_not(None), seen > _POSTED.c.posted_at),
                ~already,
            )
            .order_by(_POSTED.c.posted_at, _POSTED.c.paper_id)
        )

    async def due(self, *, posted_since: datetime) -> list[FollowUpDue]:
        found: list[FollowUpDue] = []
        async with self._engine.connect() as conn:
            for kind in ArtifactKind:
                for row in await conn.execute(self._due_query(kind, posted_since)):
                    ref = ChannelRef(Platform(row.platform), row.workspace_id, row.channel_id)
                    found.append(FollowUpDue(ref, row.paper_id, kind, row.message_id, row.posted_at))
        found.sort(key=lambda d: (d.posted_at, d.paper_id, d.kind.value))
        return found

    async def posted_since(self, since: datetime) -> list[str]:
        """The distinct papers posted in any channel since `since` (what the paper-info poll watches)."""
        query = select(_POSTED.c.paper_id).where(_POSTED.c.posted_at >= since).distinct().order_by(_POSTED.c.paper_id)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

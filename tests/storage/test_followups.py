"""What storage says is due for follow-up, on SQLite and PostgreSQL: a paper posted in a channel that
gained a kind of artifact after it was posted there, once per channel, paper and kind."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from bot.types import ArtifactKind, ChannelRef, ChannelSettings, DeliveryKind, Paper
from storage import Database
from tests.storage.archive import sample
from tests.storage.conftest import NOW, RANDOM

WINDOW = NOW - timedelta(days=30)


async def post(db: Database, ref: ChannelRef, papers: list[Paper], *, at: datetime = NOW) -> str:
    claim = await db.deliveries.claim(
        ref, DeliveryKind.DIGEST, "2025-11-10", claimed_by="r1", now=at, paper_ids=[p.id for p in papers]
    )
    assert claim is not None
    await db.deliveries.mark_sent(claim.id, message_id=f"msg-{ref.channel_id}", now=at)
    return f"msg-{ref.channel_id}"


async def test_what_gained_an_artifact_after_it_was_posted_is_due_once(db: Database, general: ChannelRef) -> None:
    await db.channels.ensure(RANDOM, digest_time=NOW.time(), timezone="UTC", now=NOW)
    with_code, plain, later = (dataclasses.replace(p, github_repo=None, models=(), models_total=0) for p in sample(3))
    with_code = dataclasses.replace(with_code, github_repo="https://github.com/o/r")
    await db.papers.upsert([with_code, plain, later], seen_at=NOW - timedelta(hours=1))
    parent = await post(db, general, [with_code, plain])
    await post(db, RANDOM, [plain])
    await db.channels.update(RANDOM, settings=ChannelSettings(followups=False))
    assert await db.followups.due(posted_since=WINDOW) == [], "code known before the post is no news"

    gained = dataclasses.replace(plain, models=("org/m",), models_total=2, github_repo="https://github.com/o/p")
    await db.papers.upsert([gained, dataclasses.replace(later, models=("org/x",))], seen_at=NOW + timedelta(hours=2))
    due = await db.followups.due(posted_since=WINDOW)
    assert sorted((d.channel, d.paper_id, d.kind, d.parent) for d in due) == [
        (general, plain.id, ArtifactKind.CODE, parent),
        (general, plain.id, ArtifactKind.MODEL, parent),
    ], "not the channel with follow-ups off, not a paper never posted"
    # Seen again later: the first sighting stays.
    await db.papers.upsert([dataclasses.replace(gained, models_total=3)], seen_at=NOW + timedelta(days=1))
    assert len(await db.followups.due(posted_since=WINDOW)) == 2

    claim = await db.deliveries.claim(
        general, DeliveryKind.FOLLOWUP, f"{plain.id}:model", claimed_by="r1", now=NOW + timedelta(hours=3)
    )
    assert claim is not None
    assert [d.kind for d in await db.followups.due(posted_since=WINDOW)] == [ArtifactKind.CODE]
    assert await db.followups.due(posted_since=NOW + timedelta(minutes=1)) == [], "posted before the window"
    assert await db.followups.posted_since(WINDOW) == sorted([with_code.id, plain.id])
    stored = await db.papers.get(plain.id)
    assert stored is not None and (stored.models, stored.models_total) == (("org/m",), 3)


async def test_a_daily_listing_without_linked_repositories_keeps_those_the_paper_info_gave(db: Database) -> None:
    (paper,) = sample(1)
    await db.papers.upsert([dataclasses.replace(paper, models=("org/a", "org/b"), models_total=7)], seen_at=NOW)
    await db.papers.upsert([dataclasses.replace(paper, upvotes=paper.upvotes + 5)], seen_at=NOW)
    stored = await db.papers.get(paper.id)
    assert stored is not None and (stored.models, stored.models_total) == (("org/a", "org/b"), 7)


async def test_first_upvotes_is_the_earliest_sample(db: Database) -> None:
    (paper,) = sample(1)
    await db.papers.upsert([dataclasses.replace(paper, upvotes=12)], seen_at=NOW)
    await db.papers.upsert([dataclasses.replace(paper, upvotes=148)], seen_at=NOW + timedelta(days=1))
    assert await db.papers.first_upvotes([paper.id, "2501.99999"]) == {paper.id: (NOW, 12)}

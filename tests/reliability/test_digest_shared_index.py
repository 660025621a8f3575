"""A fan-out may share one PaperIndex between channels (bench/fanout.py): the digests must not change.

The shared index covers the whole pool; each channel still drops what it already posted, what is
withdrawn and what is under its `min-upvotes`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.digest import select_entries, topic_windows
from bot.topic_index import PaperIndex
from bot.types import Channel, ChannelRef, ChannelSettings, Paper, Platform, Subscription

DAY = date(2025, 7, 15)
CREATED = datetime(2025, 6, 1, tzinfo=UTC)


def paper(i: int, title: str, upvotes: int, *, withdrawn: bool = False) -> Paper:
    return Paper(
        id=f"2507.{10000 + i}",
        title=title,
        abstract="We study " + title.lower(),
        authors=("Ada Lovelace",),
        featured_days=(DAY,),
        upvotes=upvotes,
        withdrawn=withdrawn,
    )


PAPERS = [
    paper(1, "Mixture of experts at scale", 50),
    paper(2, "Sparse MoE routing", 5),
    paper(3, "Diffusion models for video", 30),
    paper(4, "A survey of mixture-of-experts", 40),
    paper(5, "Withdrawn mixture of experts", 90, withdrawn=True),
    paper(6, "Reinforcement learning from feedback", 20),
]


def channel(i: int, settings: ChannelSettings) -> tuple[Channel, list[Subscription]]:
    ref = ChannelRef(Platform.SLACK, "T1", f"C{i}")
    ch = Channel(ref, time(9), "UTC", settings=settings, created_at=CREATED)
    queries = ["moe", "diffusion OR rl", '"mixture of experts" -survey']
    return ch, [Subscription(n, ref, q, "U1", CREATED) for n, q in enumerate(queries)]


def test_a_shared_index_selects_exactly_what_a_per_channel_index_selects() -> None:
    trending = sorted(PAPERS, key=lambda p: -p.upvotes)
    shared = PaperIndex(PAPERS)
    cases = [
        (ChannelSettings(trending=False), set()),
        (ChannelSettings(trending=False, min_upvotes=10), set()),
        (ChannelSettings(trending=False), {"2507.10001"}),
        (ChannelSettings(max_papers=2), {"2507.10003"}),
    ]
    seen_topics = set()
    for i, (settings, posted) in enumerate(cases):
        ch, subs = channel(i, settings)
        kwargs = {
            "trending_pool": trending,
            "topic_pool": PAPERS,
            "windows": topic_windows(ch, subs),
            "posted": posted,
            "papers_day": DAY,
        }
        alone = select_entries(ch, **kwargs)  # type: ignore[arg-type]
        together = select_entries(ch, index=shared, **kwargs)  # type: ignore[arg-type]
        assert together == alone, (settings, posted)
        ids = {e.paper.id for e in together}
        assert not ids & posted and "2507.10005" not in ids
        if settings.min_upvotes:
            assert all(e.paper.upvotes >= settings.min_upvotes for e in together)
        seen_topics |= {e.paper.id for e in together if e.reason.value == "topic"}
    assert seen_topics  # the topics really matched something

"""Rising papers: one the channel did not get that climbs fast comes back once, under "Rising".

The rule ("climbing fast"): a paper first featured (or, for arXiv-only papers, published) within the last
`WITHIN_DAYS` days of the digest's papers day, with at least `MIN_UPVOTES` upvotes now and at least
`FACTOR` times the upvotes it had when Paperboy first saw it (upvote history is sampled at every ingest
that sees a change). Hugging Face's own "trending" order is not an upvote ranking; this rule is Paperboy's,
and its trajectory is shown ("▲ 12 → 148 since Tue 25 Nov").

A channel sees a rising paper when the paper fits its interests (one of its topics matches, or the
channel takes the day's trending papers) and it was never posted there: typically one that matched
but stayed under `min-upvotes` or beyond `max` on its day. `min-upvotes` does not hold a rising paper
back (climbing past it is the point). At most `MAX_PER_DIGEST` per digest, fastest climbers first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.types import Paper, Trajectory

if TYPE_CHECKING:
    from bot.digest import DigestBuilder
    from bot.ports import PaperStore

WITHIN_DAYS = 3
FACTOR = 5
MIN_UPVOTES = 50
MAX_PER_DIGEST = 3


def arrival(paper: Paper) -> date | None:
    if paper.featured_days:
        return min(paper.featured_days)
    return paper.published_at.date() if paper.published_at else None


def trajectory(paper: Paper, first: tuple[datetime, int] | None, papers_day: date) -> Trajectory | None:
    """The paper's climb when it satisfies the rule at `papers_day`, else None."""
    arrived = arrival(paper)
    if first is None or arrived is None or paper.withdrawn:
        return None
    if not papers_day - timedelta(days=WITHIN_DAYS - 1) <= arrived <= papers_day:
        return None
    at, was = first
    if paper.upvotes < MIN_UPVOTES or paper.upvotes < FACTOR * max(was, 1):
        return None
    return Trajectory(was, paper.upvotes, at.date())


def rising_papers(
    pool: Sequence[Paper], first: Mapping[str, tuple[datetime, int]], papers_day: date
) -> list[tuple[Paper, Trajectory]]:
    """The papers of `pool` climbing fast at `papers_day`, fastest first."""
    found = [(p, t) for p in pool if (t := trajectory(p, first.get(p.id), papers_day)) is not None]
    found.sort(key=lambda pt: (-pt[1].to_upvotes / max(pt[1].from_upvotes, 1), pt[0].id))
    return found


async def describe_rising(digests: DigestBuilder, papers: PaperStore, now: datetime) -> str:
    """What the `rising` job reports: the papers climbing fast at the latest papers day, with their climbs."""
    day = await papers.latest_featured_day(on_or_before=now.date())
    if day is None:
        return "no papers stored yet"
    pool = await digests.rising_pool(day)
    if not pool.papers:
        rule = f"{FACTOR}x and at least {MIN_UPVOTES} upvotes within {WITHIN_DAYS} days"
        return f"no paper is climbing fast at {day} ({rule})"
    shown = "; ".join(
        f"{p.id} ▲ {t.from_upvotes} → {t.to_upvotes} since {t.since:%a %d %b}" for p, t in pool.papers[:10]
    )
    more = f" (and {len(pool.papers) - 10} more)" if len(pool.papers) > 10 else ""
    return f"{len(pool.papers)} papers climbing fast at {day}: {shown}{more}"

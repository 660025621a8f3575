"""Topics: subscribe, unsubscribe, topics. Every lookup is scoped to the invoking channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from bot.actions import paper_actions, topic_actions
from bot.channels import Channels
from bot.clock import Clock
from bot.commands import Arg, CommandError, Context, Router
from bot.features.params import QUERY_EXAMPLE, parse_query
from bot.ports import PaperStore, SubscriptionStore, Suggestion, VoteStore
from bot.query import Match, TopicQuery, match
from bot.refine import refined_query
from bot.refine import suggest as suggest_refinement
from bot.topic_index import PaperIndex
from bot.types import (
    Audience,
    ChannelRef,
    ListedPaper,
    Paper,
    PaperList,
    Subscription,
    TextReply,
    TopicList,
    TopicSummary,
)

MAX_TOPICS = 25
PREVIEW_DAYS = 7


@dataclass(frozen=True, slots=True)
class TopicServices:
    channels: Channels
    subscriptions: SubscriptionStore
    papers: PaperStore
    clock: Clock
    votes: VoteStore | None = None
    """The channel's votes, for the refinements they suggest (`bot.refine`)."""


router: Router[TopicServices] = Router("topics")
Ctx = Context[TopicServices]


async def recent_papers(papers: PaperStore, clock: Clock) -> list[Paper]:
    """Papers that arrived in the last seven Daily Papers days (the window for previews and counts)."""
    end = await papers.latest_featured_day(on_or_before=clock.now().date())
    if end is None:
        return []
    return [p for p in await papers.arrived_between(end - timedelta(days=PREVIEW_DAYS - 1), end) if not p.withdrawn]


async def recent_matches(query: TopicQuery, papers: PaperStore, clock: Clock) -> list[tuple[Paper, Match]]:
    """What `query` matched in the last `PREVIEW_DAYS` Daily Papers days, most upvoted first (a preview)."""
    hits = [(p, m) for p in await recent_papers(papers, clock) if (m := match(query, p)) is not None]
    hits.sort(key=lambda pm: (-pm[0].upvotes, pm[0].id))
    return hits


async def find_topic(subscriptions: SubscriptionStore, ref: ChannelRef, which: str) -> Subscription | None:
    """`ref`'s topic by its id (`3`, `#3`) or else its exact query; None when it has none such."""
    number = which.removeprefix("#")
    if number.isascii() and number.isdigit() and len(number) <= 18:
        found = await subscriptions.get(ref, int(number))
        if found is not None:
            return found
    return await subscriptions.find(ref, which)


NewTopic = Annotated[
    TopicQuery,
    Arg(
        'A topic query, e.g. moe OR "mixture of experts"',
        metavar="query",
        rest=True,
        convert=parse_query,
        missing=f"Give a query, {QUERY_EXAMPLE}.",
    ),
]


@router.command(audience=Audience.MANAGERS)
async def subscribe(ctx: Ctx, query: NewTopic) -> PaperList:
    """Subscribe this channel to a topic; matching papers arrive with its daily digest.

    Replies with a preview: how many papers the topic matched in the last 7 days, and the top 3.
    New matches start from now, so a new topic never floods the channel with its backlog.
    """
    services = ctx.services
    channel = await services.channels.ensure(ctx.channel)
    subs = services.subscriptions
    # The store decides both refusals atomically; asking first only saves a write in the common case.
    sub = None
    if await subs.find(ctx.channel, query.text) is None:
        now = services.clock.now()
        sub = await subs.add(ctx.channel, query.text, created_by=ctx.user.user_id, now=now, limit=MAX_TOPICS)
    if sub is None:
        existing = await subs.find(ctx.channel, query.text)
        if existing is not None:
            raise CommandError(f"This channel already follows `{existing.query}` (topic #{existing.id}).")
        raise CommandError(
            f"This channel already has {MAX_TOPICS} topics, the limit. Remove one with `unsubscribe <id>` first."
        )
    hits = await recent_matches(query, services.papers, services.clock)
    schedule = f"{channel.digest_time:%H:%M} {channel.timezone}"
    state = "" if channel.digest_enabled else " (the digest is off: `digest on` starts it)"
    return PaperList(
        heading=f"Subscribed to `{query.text}` (topic #{sub.id})",
        papers=tuple(ListedPaper(p, m.reasons, actions=paper_actions(p)) for p, m in hits[:3]),
        note=(
            f"In the last {PREVIEW_DAYS} days it would have matched {len(hits)} paper"
            f"{'' if len(hits) == 1 else 's'}{' (the top 3 below)' if len(hits) > 3 else ''}. "
            f"New matches arrive with the daily digest at {schedule}{state}."
        ),
    )


async def topic_suggestions(ctx: Context[TopicServices], current: str) -> Sequence[Suggestion]:
    """This channel's topics whose id or query contains what the user typed."""
    needle = current.strip().casefold()
    found = []
    for sub in await ctx.services.subscriptions.list(ctx.channel):
        label = f"#{sub.id} {sub.query}"
        if not needle or needle in label.casefold():
            found.append(Suggestion(label, str(sub.id)))
    return found


Topic = Annotated[
    str,
    Arg(
        "Topic id (see `topics`) or its exact query",
        metavar="id|query",
        rest=True,
        missing="Usage: `unsubscribe <id|query>`; `topics` lists this channel's topics and ids.",
        suggest=topic_suggestions,
    ),
]


@router.command(audience=Audience.MANAGERS)
async def unsubscribe(ctx: Ctx, topic: Topic) -> TextReply:
    """Remove one of this channel's topics, by its id or its exact query."""
    subs = ctx.services.subscriptions
    sub = await find_topic(subs, ctx.channel, topic)
    if sub is None:
        raise CommandError(f"This channel has no topic `{topic[:80]}`; `topics` lists its topics and ids.")
    await subs.remove(ctx.channel, sub.id)
    return TextReply(f"Unsubscribed from `{sub.query}` (topic #{sub.id}).")


@router.command()
async def topics(ctx: Ctx) -> TopicList:
    """This channel's topics, with ids and how many papers each matched in the last 7 days.

    When the channel's 👎 votes under a topic share a keyword none of its 👍 have, the topic shows the
    exclusion they suggest, with a button that applies it (`refine`).
    """
    services = ctx.services
    subs = await services.subscriptions.list(ctx.channel)
    index = PaperIndex(await recent_papers(services.papers, services.clock))
    queries = [parse_query(s.query) for s in subs]
    counts = index.evaluate_many(queries)
    liked, disliked = await _voted(services, ctx.channel)
    summaries = []
    for sub, query, count in zip(subs, queries, counts, strict=True):
        found = suggest_refinement(query, liked, disliked) if disliked else None
        summaries.append(
            TopicSummary(
                sub.id,
                sub.query,
                len(count),
                created_by=sub.created_by,
                actions=topic_actions(sub.id, found.phrase if found else None),
                refinement=found,
            )
        )
    return TopicList(channel=ctx.channel, topics=tuple(summaries), limit=MAX_TOPICS)


async def _voted(services: TopicServices, ref: ChannelRef) -> tuple[list[Paper], list[Paper]]:
    """The papers this channel liked and disliked (by net vote)."""
    if services.votes is None:
        return [], []
    tallies = await services.votes.tally(ref)
    if not tallies:
        return [], []
    papers = await services.papers.get_many([pid for pid, (up, down) in tallies.items() if up != down])
    liked = [p for pid, p in papers.items() if tallies[pid][0] > tallies[pid][1]]
    disliked = [p for pid, p in papers.items() if tallies[pid][0] < tallies[pid][1]]
    return liked, disliked


TopicNumber = Annotated[int, Arg("Topic id (see `topics`)", metavar="id", min=1, max=10**9 - 1, what="topic id")]
Phrase = Annotated[str, Arg("The phrase to exclude", metavar="phrase", rest=True)]


@router.command(audience=Audience.MANAGERS)
async def refine(ctx: Ctx, topic: TopicNumber, phrase: Phrase) -> TextReply:
    """Exclude a phrase from one of this channel's topics (the Apply button of `topics`).

    `topics` offers it when the channel's votes suggest an exclusion. `refine 3 web agent` turns
    topic #3 `agent` into `agent -"web agent"`, keeping its id and its start.
    """
    subs = ctx.services.subscriptions
    sub = await subs.get(ctx.channel, topic)
    if sub is None:
        raise CommandError(f"This channel has no topic #{topic}; `topics` lists its topics and ids.")
    if not phrase.replace('"', "").strip():
        raise CommandError("Give a phrase to exclude, for example `refine 3 web agent`.")
    new_query = parse_query(refined_query(sub.query, phrase)).text
    changed = await subs.set_query(ctx.channel, sub.id, new_query)
    if changed is None:
        raise CommandError(f"This channel already follows `{new_query[:120]}`; nothing was changed.")
    return TextReply(f"Topic #{sub.id} is now `{changed.query}` (was `{sub.query}`). Its matches so far still count.")

"""Topics: subscribe, unsubscribe, topics. Every lookup is scoped to the invoking channel."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.commands import CommandContext, CommandError, registry
from bot.features.papers import parse_query
from bot.query import match
from bot.topic_index import PaperIndex
from bot.types import ArgSpec, ListedPaper, Paper, PaperList, TextReply, TopicList, TopicSummary

if TYPE_CHECKING:
    from bot.engine import Engine

MAX_TOPICS = 25
PREVIEW_DAYS = 7


async def recent_papers(engine: Engine) -> list[Paper]:
    """Papers that arrived in the last seven Daily Papers days (the window for previews and counts)."""
    papers = engine.db.papers
    end = await papers.latest_featured_day(on_or_before=engine.clock.now().date())
    if end is None:
        return []
    return [p for p in await papers.arrived_between(end - timedelta(days=PREVIEW_DAYS - 1), end) if not p.withdrawn]


@registry.command(
    "subscribe",
    usage="subscribe <query>",
    args=(ArgSpec("query", "A topic query, e.g. moe OR \"mixture of experts\"", required=True),),
    changes_channel=True,
)
async def subscribe(ctx: CommandContext) -> PaperList:
    """Subscribe this channel to a topic; matching papers arrive with its daily digest.

    Replies with a preview: how many papers the topic matched in the last 7 days, and the top 3.
    New matches start from now, so a new topic never floods the channel with its backlog.
    """
    query = parse_query(ctx.args)
    engine = ctx.engine
    channel = await engine.channel(ctx.channel)
    subs = engine.db.subscriptions
    existing = await subs.find(ctx.channel, query.text)
    if existing is not None:
        raise CommandError(f"This channel already follows `{existing.query}` (topic #{existing.id}).")
    if await subs.count(ctx.channel) >= MAX_TOPICS:
        raise CommandError(
            f"This channel already has {MAX_TOPICS} topics, the limit. Remove one with `unsubscribe <id>` first."
        )
    sub = await subs.add(ctx.channel, query.text, created_by=ctx.invocation.user.user_id, now=engine.clock.now())
    window = await recent_papers(engine)
    hits = [(p, m) for p in window if (m := match(query, p)) is not None]
    hits.sort(key=lambda pm: (-pm[0].upvotes, pm[0].id))
    schedule = f"{channel.digest_time:%H:%M} {channel.timezone}"
    state = "" if channel.digest_enabled else " (the digest is off: `digest on` starts it)"
    return PaperList(
        heading=f"Subscribed to `{query.text}` (topic #{sub.id})",
        papers=tuple(ListedPaper(p, m.reasons) for p, m in hits[:3]),
        note=(
            f"In the last {PREVIEW_DAYS} days it would have matched {len(hits)} paper"
            f"{'' if len(hits) == 1 else 's'}{' (the top 3 below)' if len(hits) > 3 else ''}. "
            f"New matches arrive with the daily digest at {schedule}{state}."
        ),
    )


@registry.command(
    "unsubscribe",
    usage="unsubscribe <id|query>",
    args=(ArgSpec("topic", "Topic id (see `topics`) or its exact query", required=True),),
    changes_channel=True,
)
async def unsubscribe(ctx: CommandContext) -> TextReply:
    """Remove one of this channel's topics, by its id or its exact query."""
    target = ctx.args.strip()
    if not target:
        raise CommandError("Usage: `unsubscribe <id|query>`; `topics` lists this channel's topics and ids.")
    subs = ctx.engine.db.subscriptions
    sub = None
    number = target.removeprefix("#")
    if number.isdigit():
        sub = await subs.get(ctx.channel, int(number))
    if sub is None:
        sub = await subs.find(ctx.channel, target)
    if sub is None:
        raise CommandError(f"This channel has no topic `{target[:80]}`; `topics` lists its topics and ids.")
    await subs.remove(ctx.channel, sub.id)
    return TextReply(f"Unsubscribed from `{sub.query}` (topic #{sub.id}).")


@registry.command("topics", usage="topics")
async def topics(ctx: CommandContext) -> TopicList:
    """This channel's topics, with ids and how many papers each matched in the last 7 days."""
    subs = await ctx.engine.db.subscriptions.list(ctx.channel)
    index = PaperIndex(await recent_papers(ctx.engine))
    queries = [parse_query(s.query) for s in subs]
    counts = index.evaluate_many(queries)
    return TopicList(
        channel=ctx.channel,
        topics=tuple(
            TopicSummary(s.id, s.query, len(c), created_by=s.created_by) for s, c in zip(subs, counts, strict=True)
        ),
        limit=MAX_TOPICS,
    )


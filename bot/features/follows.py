"""Personal follows: a person's own topics, delivered to them by direct message once a day.

A person's direct messages with Paperboy are a channel of their workspace (`ChannelRef.dm`): their
follows are that channel's topics, their DM time its digest time, and the daily DM is its digest. So a
follow gets everything a channel's digest has without a second mechanism: the claim and its parts
(exactly once through crashes and replicas), the schedule and its catch-up, each paper once per person,
recovery, `digest preview --channel slack:T1:@U1`. The DM channel never shows trending or rising papers,
only what the person follows, and nothing is sent on a day with nothing new.

Follows are keyed by platform, workspace and user: following in one Slack workspace (or Discord server)
says nothing in another. When the platform refuses the DM (Discord's 50007: the person's DMs are closed),
the delivery pauses the DM channel with the platform's reason; the person is told at their next command
(`PausedFollows`) and `follow on` resumes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from typing import Annotated

from bot.actions import follow_actions
from bot.channels import Channels
from bot.clock import Clock
from bot.commands import Arg, CommandError, Context, Router
from bot.config import check_timezone, parse_hhmm
from bot.errors import StoreUnavailable
from bot.features.params import QUERY_EXAMPLE, day_label, parse_query
from bot.features.subscriptions import MAX_TOPICS, PREVIEW_DAYS, find_topic, recent_matches, recent_papers
from bot.ports import ChannelStore, DeliveryStore, KeyValueStore, PaperStore, ScheduleListener, SubscriptionStore
from bot.query import TopicQuery
from bot.scheduler import next_digest_at
from bot.topic_index import PaperIndex
from bot.types import (
    Channel,
    ChannelRef,
    CommandInvocation,
    DeliveryKind,
    ListedPaper,
    Message,
    Paper,
    PaperList,
    TextReply,
    TopicList,
    TopicSummary,
    canonical_arxiv_id,
)

MAX_FOLLOWS = MAX_TOPICS
SIMILAR_KEYWORDS = 3
"""How many of a paper's keywords a "DM me papers like this" follow keeps: its most distinctive ones."""


_AT = re.compile(r"^at\s+(?P<time>\d\S*)(?:\s+(?P<tz>\S+))?\s*$", re.IGNORECASE)


def inbox_of(invocation: CommandInvocation) -> ChannelRef:
    """The direct messages of the person who ran `invocation`, in the workspace they ran it in."""
    ref = invocation.channel
    return ChannelRef.dm(ref.platform, ref.workspace_id, invocation.user.user_id)


@dataclass(frozen=True, slots=True)
class FollowServices:
    channels: Channels
    subscriptions: SubscriptionStore
    papers: PaperStore
    deliveries: DeliveryStore
    kv: KeyValueStore
    clock: Clock
    schedule: ScheduleListener | None = None


router: Router[FollowServices] = Router("follows")
Ctx = Context[FollowServices]


async def _inbox(services: FollowServices, invocation: CommandInvocation) -> Channel:
    """The person's DM channel, made on first use with the time of the channel they follow from."""
    ref = inbox_of(invocation)
    store = services.channels.store
    found = await store.get(ref)
    if found is not None:
        return found
    origin = None if invocation.is_direct_message else await store.get(invocation.channel)
    if origin is not None:
        channel = await services.channels.ensure_at(ref, digest_time=origin.digest_time, timezone=origin.timezone)
    else:
        channel = await services.channels.ensure(ref)
    _notify(services, channel)
    return channel


def _notify(services: FollowServices, channel: Channel) -> None:
    if services.schedule is not None:
        services.schedule.channel_changed(channel)


def describe_dm(channel: Channel, clock: Clock) -> str:
    if channel.paused_reason:
        return f"Your follows are paused: {channel.paused_reason} `/papers follow on` resumes them."
    if not channel.digest_enabled:
        return "Your follows are off (`/papers follow on` turns them back on)."
    text = f"Matches reach you by direct message daily at {channel.digest_time:%H:%M} {channel.timezone}"
    nxt = next_digest_at(channel, clock.now())
    return text + (f" (next: {nxt:%Y-%m-%d %H:%M} UTC)." if nxt else ".")


FollowText = Annotated[
    str,
    Arg(
        "A query to follow; or: list, stop <id>, at HH:MM [timezone], on, off, like <arXiv id>, topic <id>",
        metavar="query | list | stop <id|query> | at HH:MM [timezone] | on | off | like <arXiv id> | topic <id>",
        rest=True,
    ),
]

USAGE = (
    f"Give a query to follow, {QUERY_EXAMPLE}; or `follow list`, `follow stop <id>`, "
    "`follow at 08:30 Europe/Paris`, `follow on`, `follow off`, `follow like <arXiv id>`, `follow topic <id>`."
)


@router.command(private=True)
async def follow(ctx: Ctx, what: FollowText = "") -> Message | Sequence[Message]:
    """Follow a topic yourself: its new matches reach you by direct message once a day.

    `follow list` (or `following`) shows your follows and `follow stop <id|query>` (or `unfollow`) ends
    one. `follow at 08:30 Europe/Paris` sets the time of your DM (timezone optional); `follow off` stops
    the DMs and `follow on` starts them again (also after Paperboy could not reach you).
    `follow like <arXiv id>` follows papers like that one (the "DM me papers like this" button: the
    paper's most distinctive keywords); `follow topic <id>` follows one of this channel's topics (the
    "Follow this topic" button). Your follows are yours, in this workspace: the channel does not see
    them. To follow the word `list` itself, quote it: `follow "list"`.
    """
    words = what.strip()
    verb, _, rest = words.partition(" ")
    verb, rest = verb.casefold(), rest.strip()
    if not words:
        raise CommandError(USAGE)
    if verb == "list" and not rest:
        return await _following(ctx)
    if verb == "stop":
        return await _unfollow(ctx, rest)
    if (at := _AT.match(words)) is not None:
        return await _set_time(ctx, at.group("time"), at.group("tz"))
    if verb in ("on", "off") and not rest:
        return await _switch(ctx, verb == "on")
    if verb == "like" and rest and " " not in rest:
        return await _follow_similar(ctx, _paper_id(rest))
    if verb == "topic" and rest.removeprefix("#").isdigit() and len(rest) <= 10:
        return await _follow_topic(ctx, int(rest.removeprefix("#")))
    return await _follow_query(ctx, parse_query(words), origin="")


router.alias("following", "follow", "list")
router.alias("unfollow", "follow", "stop")


def _paper_id(text: str) -> str:
    try:
        return canonical_arxiv_id(text)
    except ValueError as exc:
        raise CommandError(f"{exc}. Usage: `follow like <arXiv id>`.") from None


async def _follow_query(ctx: Ctx, query: TopicQuery, *, origin: str) -> Sequence[Message]:
    services = ctx.services
    channel = await _inbox(services, ctx.invocation)
    subs = services.subscriptions
    sub = None
    if await subs.find(channel.ref, query.text) is None:
        now = services.clock.now()
        sub = await subs.add(channel.ref, query.text, created_by=ctx.user.user_id, now=now, limit=MAX_FOLLOWS)
    if sub is None:
        existing = await subs.find(channel.ref, query.text)
        if existing is not None:
            raise CommandError(f"You already follow `{existing.query}` (follow #{existing.id}).")
        raise CommandError(f"You follow {MAX_FOLLOWS} topics, the limit. Stop one with `unfollow <id>` first.")
    hits = await recent_matches(query, services.papers, services.clock)
    shown = " (the top 3 below)" if len(hits) > 3 else ""
    return [
        PaperList(
            heading=f"You follow `{query.text}` (follow #{sub.id}){origin}",
            papers=tuple(ListedPaper(p, m.reasons) for p, m in hits[:3]),
            note=(
                f"In the last {PREVIEW_DAYS} days it would have matched {len(hits)} "
                f"paper{'' if len(hits) == 1 else 's'}{shown}. New matches only, each paper once. "
                + describe_dm(channel, services.clock)
            ),
            private=True,
        )
    ]


async def _set_time(ctx: Ctx, raw_time: str, raw_zone: str | None) -> TextReply:
    try:
        when: time = parse_hhmm(raw_time)
        zone = check_timezone(raw_zone) if raw_zone else None
    except ValueError as exc:
        raise CommandError(
            f"{exc}. Usage: `follow at HH:MM [timezone]`, e.g. `follow at 08:30 Europe/Paris`."
        ) from None
    services = ctx.services
    channel = await _inbox(services, ctx.invocation)
    channel = await services.channels.store.update(channel.ref, digest_time=when, timezone=zone or channel.timezone)
    _notify(services, channel)
    return TextReply(describe_dm(channel, services.clock), private=True)


async def _switch(ctx: Ctx, on: bool) -> TextReply:
    services = ctx.services
    channel = await _inbox(services, ctx.invocation)
    store = services.channels.store
    channel = await store.update(channel.ref, digest_enabled=on)
    if on and channel.paused_reason:
        # `follow on` is how a person says they opened their DMs again.
        await store.resume(channel.ref)
        channel = await store.get(channel.ref) or channel
        await services.kv.set(_told_key(channel.ref), "")
    _notify(services, channel)
    return TextReply(describe_dm(channel, services.clock), private=True)


async def _follow_similar(ctx: Ctx, paper: str) -> Sequence[Message]:
    """Papers like `paper`: its most distinctive keywords, OR-ed, so the follow is an ordinary one the
    person can read, and every DM says which keyword matched."""
    services = ctx.services
    found = await services.papers.get(paper)
    if found is None:
        raise CommandError(f"Paper {paper} is not stored; `paper {paper}` looks it up first.")
    query = await similarity_query(found, await recent_papers(services.papers, services.clock))
    if query is None:
        raise CommandError(
            f"Paper {paper} has no keywords to follow it by; `follow <query>` follows words of your choice."
        )
    return await _follow_query(ctx, query, origin=f": papers like {found.id} “{found.title[:120]}”")


async def similarity_query(paper: Paper, recent: Sequence[Paper]) -> TopicQuery | None:
    """The paper's `SIMILAR_KEYWORDS` most distinctive keywords as a query (`"a" OR "b" OR "c"`).

    Distinctive: shared by the fewest recent papers, but by at least one other when any is (a keyword
    only this paper has would never match again)."""
    keywords = [" ".join(k.replace('"', " ").split()) for k in paper.ai_keywords]
    keywords = list(dict.fromkeys(k for k in keywords if k and len(k) <= 80))
    if not keywords:
        return None
    index = PaperIndex([*recent, paper])
    phrases = [parse_query(f'"{k}"') for k in keywords]
    counts = [len(ids) for ids in index.evaluate_many(phrases)]
    ranked = sorted(range(len(keywords)), key=lambda i: (counts[i] < 2, counts[i], i))
    chosen = [keywords[i] for i in ranked[:SIMILAR_KEYWORDS]]
    return parse_query(" OR ".join(f'"{k}"' for k in chosen))


async def _follow_topic(ctx: Ctx, topic: int) -> Sequence[Message]:
    if ctx.invocation.is_direct_message:
        raise CommandError("`follow topic <id>` follows a channel's topic; use it in that channel (see `topics`).")
    sub = await ctx.services.subscriptions.get(ctx.channel, topic)
    if sub is None:
        raise CommandError(f"This channel has no topic #{topic}; `topics` lists its topics and ids.")
    return await _follow_query(ctx, parse_query(sub.query), origin=f", this channel's topic #{sub.id}")


async def _following(ctx: Ctx) -> Sequence[Message]:
    """The person's follows, with ids, when their DM comes, and the papers their last DM brought."""
    services = ctx.services
    ref = inbox_of(ctx.invocation)
    channel = await services.channels.store.get(ref)
    subs = await services.subscriptions.list(ref) if channel is not None else []
    index = PaperIndex(await recent_papers(services.papers, services.clock)) if subs else None
    counts = index.evaluate_many([parse_query(s.query) for s in subs]) if index is not None else []
    follows = TopicList(
        channel=ref,
        topics=tuple(
            TopicSummary(sub.id, sub.query, len(count), actions=follow_actions(sub.id))
            for sub, count in zip(subs, counts, strict=True)
        ),
        limit=MAX_FOLLOWS,
        private=True,
        personal=True,
    )
    replies: list[Message] = [follows]
    if channel is None or not subs:
        return replies
    replies.append(TextReply(describe_dm(channel, services.clock), private=True))
    last = await services.deliveries.last_for_channel(ref, DeliveryKind.DIGEST)
    if last is not None and last.paper_ids:
        stored = await services.papers.get_many(list(last.paper_ids))
        papers = tuple(ListedPaper(stored[pid]) for pid in last.paper_ids if pid in stored)
        if papers:
            when = day_label(last.claimed_at.date())
            replies.append(PaperList(heading=f"Your latest matches (DM of {when})", papers=papers, private=True))
    return replies


async def _unfollow(ctx: Ctx, which: str) -> TextReply:
    if not which:
        raise CommandError("Usage: `unfollow <id|query>`; `following` lists your follows and ids.")
    subs = ctx.services.subscriptions
    sub = await find_topic(subs, inbox_of(ctx.invocation), which)
    if sub is None:
        raise CommandError(f"You follow no `{which[:80]}`; `following` lists your follows and ids.")
    await subs.remove(sub.channel, sub.id)
    return TextReply(f"You no longer follow `{sub.query}` (follow #{sub.id}).", private=True)


def _told_key(ref: ChannelRef) -> str:
    return f"dm-paused-told:{ref.key}"


class PausedFollows:
    """Tells a person, once, at their next command, that their DMs could not be delivered (and why).

    The engine asks after every command, so the answer comes from the store's snapshot of the paused
    inboxes (`ChannelStore.paused_inboxes`), not a read of the person's channel: nothing when it is fine.
    """

    def __init__(self, channels: ChannelStore, kv: KeyValueStore) -> None:
        self._channels = channels
        self._kv = kv

    async def __call__(self, invocation: CommandInvocation) -> list[Message]:
        ref = inbox_of(invocation)
        if invocation.channel == ref:
            return []
        try:
            reason = (await self._channels.paused_inboxes()).get(ref)
            if not reason:
                return []
            key = _told_key(ref)
            if await self._kv.get(key) == reason:
                return []
            await self._kv.set(key, reason)
        except StoreUnavailable:
            return []
        return [
            TextReply(
                f"⚠️ Your follows are paused: {reason} Once that is fixed, `/papers follow on` "
                "resumes them; nothing you follow was lost.",
                private=True,
            )
        ]

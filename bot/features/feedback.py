"""Feedback: like, dislike and why. Votes belong to the channel they were cast in (DESIGN §2, issue 12).

`like` and `dislike` are also the 👍 and 👎 buttons under every paper a channel sees. One vote per user
per paper per channel; pressing the same one again takes it back. The reply is private: the channel's
message is never edited with counts (a channel that wants them turns on `settings votes shown`).
`why` explains a paper's place for this channel: its topics, upvotes, recency, votes and what the
learned ranking (`bot.learning`) does to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.channels import Channels
from bot.clock import Clock
from bot.commands import CommandError, Context, Router
from bot.features.params import PaperId, day_label
from bot.learning import MIN_VOTES, ChannelModel, is_active, net_votes, tally
from bot.ports import DeliveryStore, PaperStore, SubscriptionStore, VoteStore
from bot.query import QuerySyntaxError, match, parse
from bot.ranking import HALF_LIFE_DAYS
from bot.types import ChannelSettings, Paper, TextReply, Vote


@dataclass(frozen=True, slots=True)
class FeedbackServices:
    channels: Channels
    votes: VoteStore
    papers: PaperStore
    subscriptions: SubscriptionStore
    deliveries: DeliveryStore
    clock: Clock


router: Router[FeedbackServices] = Router("feedback")
Ctx = Context[FeedbackServices]


async def _known(ctx: Ctx, paper_id: str) -> Paper:
    found = await ctx.services.papers.get(paper_id)
    if found is None:
        raise CommandError(f"Paperboy does not know the arXiv paper `{paper_id}`.")
    return found


def _title(paper: Paper) -> str:
    title = " ".join(paper.title.split())
    return title if len(title) <= 90 else title[:89] + "…"


async def _vote(ctx: Ctx, paper_id: str, value: int) -> TextReply:
    services = ctx.services
    paper = await _known(ctx, paper_id)
    channel = await services.channels.ensure(ctx.channel)
    now = services.clock.now()
    after = await services.votes.cast(ctx.channel, paper.id, ctx.user.user_id, value, now=now)
    count = await services.votes.count(ctx.channel)
    name = ctx.invocation.channel_name
    here = f"#{name}" if name else "this channel"
    if after == 0:
        said = f"Taken back: your {'👍' if value > 0 else '👎'} on “{_title(paper)}” no longer counts in {here}."
    elif after > 0:
        said = f"Noted: {here} will see more papers like “{_title(paper)}”."
    else:
        said = f"Noted: {here} will see fewer papers like “{_title(paper)}”."
    s = channel.settings
    if s.learning is False:
        state = "Learning is off here, so votes do not reorder the digest (`settings learning on`)."
    elif is_active(s, count):
        state = f"The digest's topic section is ordered by this channel's {count} votes."
    else:
        state = f"Learning starts once this channel has {MIN_VOTES} votes ({count} so far)."
    return TextReply(f"{said} {state}", private=True)


@router.command(private=True)
async def like(ctx: Ctx, paper: PaperId) -> TextReply:
    """Vote a paper up in this channel (the 👍 button); the same again takes the vote back.

    The channel's votes teach its digest what to put first; `why <arXiv id>` shows what they changed.
    """
    return await _vote(ctx, paper, 1)


@router.command(private=True)
async def dislike(ctx: Ctx, paper: PaperId) -> TextReply:
    """Vote a paper down in this channel (the 👎 button); the same again takes the vote back.

    A dislike only moves papers down: what matches a topic still arrives. Change the topic to drop it.
    """
    return await _vote(ctx, paper, -1)


def _recency(paper: Paper, today: date) -> str:
    day = paper.first_featured or (paper.published_at.date() if paper.published_at else None)
    if day is None:
        return "no date known, so no recency bonus"
    age = max(0, (today - day).days)
    days = f"{age} day{'s' if age != 1 else ''}"
    return f"first seen {day_label(day)}, {days} ago (recency halves every {HALF_LIFE_DAYS:.0f} days)"


@router.command(private=True)
async def why(ctx: Ctx, paper: PaperId) -> TextReply:
    """Why a paper sits where it does for this channel: topics matched, upvotes, recency, votes, learning."""
    services = ctx.services
    found = await _known(ctx, paper)
    channel = await services.channels.ensure(ctx.channel)
    lines = [f"Why “{_title(found)}” ({found.id}) sits where it does here:"]
    matched = []
    for sub in await services.subscriptions.list(ctx.channel):
        try:
            query = parse(sub.query)
        except QuerySyntaxError:
            continue  # stored queries were valid when stored; the digest skips such a one too
        m = match(query, found)
        if m is not None:
            matched.append(f"topic #{sub.id} `{sub.query}` (matched: {', '.join(dict.fromkeys(m.reasons))})")
    if matched:
        lines.append("• Topics: " + "; ".join(matched) + ".")
    else:
        lines.append("• Topics: it matches none of this channel's topics, so it only arrives as a trending paper.")
    lines.append(f"• Upvotes: {found.upvotes} on Hugging Face.")
    lines.append(f"• Recency: {_recency(found, services.clock.now().date())}.")
    votes = await services.votes.list(ctx.channel)
    up, down = tally(votes).get(found.id, (0, 0))
    mine = next((v.value for v in votes if v.paper_id == found.id and v.user_id == ctx.user.user_id), 0)
    yours = {1: " (yours: 👍)", -1: " (yours: 👎)"}.get(mine, "")
    lines.append(f"• Votes here: 👍 {up} · 👎 {down}{yours}.")
    lines.append("• Learned effect: " + await _learned(services, channel.settings, votes, found))
    if found.id in await services.deliveries.posted_paper_ids(ctx.channel):
        lines.append("• Already posted in this channel: digests never post it here again.")
    return TextReply("\n".join(lines), private=True)


async def _learned(services: FeedbackServices, settings: ChannelSettings, votes: list[Vote], paper: Paper) -> str:
    if settings.learning is False:
        return "none: learning is off here (`settings learning on`)."
    if not is_active(settings, len(votes)):
        return f"none yet: learning starts once this channel has {MIN_VOTES} votes ({len(votes)} so far)."
    net = net_votes(votes)
    model = ChannelModel.from_votes(votes, await services.papers.get_many(list(net)))
    effect = model.effect(paper)
    strongest = model.strongest(paper)
    detail = ", ".join(f"{fw.label} {fw.weight:+.2f}" for fw in strongest)
    scope = " (topic section" + (" and trending" if settings.learn_trending else "") + ")"
    if effect is None:
        return f"about neutral (score {model.score(paper):+.2f}){scope}" + (f"; features: {detail}." if detail else ".")
    return f"{effect.line}; score {effect.score:+.2f}{scope}; strongest features: {detail}."

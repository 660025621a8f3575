"""The digest a preview shows: a stored channel's next digest, or a fresh channel's with trial topics.

A fresh preview channel is never stored: it is a `Channel` value with the configured defaults, and its
trial topics are in-memory `Subscription`s created `TRIAL_TOPIC_AGE` before the preview time, so the
page shows what a topic setup would have caught over the last week (the `subscribe` preview's window)
instead of the nothing a brand-new subscription would get on its first morning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from adapters.discord.render import DiscordPost
from adapters.discord.render import render as render_discord
from adapters.slack.render import SlackPost
from adapters.slack.render import render as render_slack
from bot.digest import DigestBuilder, local_day, select_entries, topic_windows
from bot.query import QuerySyntaxError, parse
from bot.types import Channel, ChannelRef, ChannelSettings, Digest, Paper, Platform, Subscription
from paperboy.preview.html import page_html
from storage import Database

TRIAL_TOPIC_AGE = timedelta(days=7)
MAX_TOPICS = 25
MAX_QUERY_CHARS = 300
PREVIEW_CHANNEL = ChannelRef(Platform.CONSOLE, "preview", "new-channel")


class PreviewError(ValueError):
    """A preview request that cannot be served: printed as is."""


@dataclass(frozen=True, slots=True)
class Preview:
    digest: Digest
    channel_label: str
    topics: tuple[str, ...]
    slack: list[SlackPost]
    discord: list[DiscordPost]

    def page(self) -> str:
        title = "Paperboy digest preview"
        return page_html(
            self.digest,
            self.slack,
            self.discord,
            title=title,
            channel_label=self.channel_label,
            topics=self.topics,
        )


def fresh_channel(*, digest_time: time, timezone: str, at: datetime) -> Channel:
    """A channel as `/papers` would create it, with default settings; not stored."""
    return Channel(
        ref=PREVIEW_CHANNEL,
        digest_time=digest_time,
        timezone=timezone,
        settings=ChannelSettings(),
        created_at=at,
    )


def trial_subscriptions(channel: ChannelRef, queries: Sequence[str], *, at: datetime) -> list[Subscription]:
    """In-memory topics, validated like `subscribe` validates them."""
    if len(queries) > MAX_TOPICS:
        raise PreviewError(f"at most {MAX_TOPICS} topics per channel, got {len(queries)}")
    subs: list[Subscription] = []
    for i, query in enumerate(queries, start=1):
        if not query.strip():
            raise PreviewError(f"--topic {i} is empty")
        if len(query) > MAX_QUERY_CHARS:
            raise PreviewError(f"--topic {query[:40]!r}… is longer than {MAX_QUERY_CHARS} characters")
        try:
            parse(query)
        except QuerySyntaxError as exc:
            raise PreviewError(f"--topic {query!r} does not parse: {exc}") from None
        subs.append(Subscription(-i, channel, query, "preview", at - TRIAL_TOPIC_AGE))
    return subs


async def preview_digest(db: Database, channel: Channel, trial: Sequence[Subscription], *, now: datetime) -> Digest:
    """`DigestBuilder.build` for `channel`, plus the trial topics when there are any.

    Without trial topics this is exactly the digest builder's. With them it runs the same selection
    (`select_entries`) over the stored and the trial topics together.
    """
    if not trial:
        return await DigestBuilder(db.papers, db.subscriptions, db.deliveries).build(channel, now=now)
    today = local_day(channel, now)
    papers_day = await db.papers.latest_featured_day(on_or_before=today - timedelta(days=1))
    if papers_day is None:
        return Digest(channel.ref, today, (), None, note="No Daily Papers are stored yet.")
    stored = await db.subscriptions.list(channel.ref) if channel.ref != PREVIEW_CHANNEL else []
    windows = topic_windows(channel, [*stored, *trial])
    trending_pool = await db.papers.featured_on(papers_day) if channel.settings.trending else []
    topic_pool: list[Paper] = []
    start = min((w.start for w in windows), default=None)
    if start is not None and start <= papers_day:
        topic_pool = await db.papers.arrived_between(start, papers_day)
    posted = await db.deliveries.posted_paper_ids(channel.ref) if channel.ref != PREVIEW_CHANNEL else set()
    entries = select_entries(
        channel,
        trending_pool=trending_pool,
        topic_pool=topic_pool,
        windows=windows,
        posted=posted,
        papers_day=papers_day,
    )
    return Digest(channel.ref, today, tuple(entries), papers_day)


async def build_preview(
    db: Database,
    *,
    channel_ref: ChannelRef | None,
    topics: Sequence[str],
    at: datetime,
    default_time: time,
    default_timezone: str,
) -> Preview:
    """The preview of `channel_ref`'s next digest (it must exist), or of a fresh channel with `topics`."""
    if at.tzinfo is None:
        raise PreviewError("--at needs a timezone, e.g. 2025-11-21T09:00Z")
    if channel_ref is not None:
        channel = await db.channels.get(channel_ref)
        if channel is None:
            raise PreviewError(
                f"Paperboy has no channel {channel_ref.key}; channels appear when someone uses /papers there "
                "(leave out --channel to preview a new channel)"
            )
        label = channel_ref.key
        stored = [s.query for s in await db.subscriptions.list(channel_ref)]
    else:
        channel = fresh_channel(digest_time=default_time, timezone=default_timezone, at=at)
        label = "a new channel (default settings, not stored)"
        stored = []
    trial = trial_subscriptions(channel.ref, topics, at=at)
    digest = await preview_digest(db, channel, trial, now=at)
    return Preview(digest, label, (*stored, *topics), render_slack(digest), render_discord(digest))

"""Per-channel settings and status."""

from __future__ import annotations

from dataclasses import replace

from bot.commands import CommandContext, CommandError, registry, require_manager
from bot.scheduler import next_digest_at
from bot.types import ArgKind, ArgSpec, ChannelSettings, Status, TextReply

MAX_PER_DIGEST = 25
MAX_MIN_UPVOTES = 10_000
_KEYS = ("max", "min-upvotes", "trending", "weekends", "empty")
_SWITCH = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False}


def describe_settings(s: ChannelSettings) -> str:
    def onoff(v: bool) -> str:
        return "on" if v else "off"

    return (
        f"max {s.max_papers} papers per digest section · min-upvotes {s.min_upvotes} · "
        f"trending {onoff(s.trending)} · weekends {onoff(s.weekends)} · empty {onoff(s.empty)}"
    )


def apply_setting(s: ChannelSettings, key: str, value: str) -> ChannelSettings:
    if key == "max":
        if not value.isdigit() or not 1 <= int(value) <= MAX_PER_DIGEST:
            raise CommandError(f"`max` takes a number from 1 to {MAX_PER_DIGEST}.")
        return replace(s, max_papers=int(value))
    if key == "min-upvotes":
        if not value.isdigit() or int(value) > MAX_MIN_UPVOTES:
            raise CommandError(f"`min-upvotes` takes a number from 0 to {MAX_MIN_UPVOTES}.")
        return replace(s, min_upvotes=int(value))
    switch = _SWITCH.get(value.lower())
    if switch is None:
        raise CommandError(f"`{key}` takes `on` or `off`.")
    field = {"trending": "trending", "weekends": "weekends", "empty": "empty"}[key]
    return replace(s, **{field: switch})


@registry.command(
    "settings",
    usage="settings [max|min-upvotes|trending|weekends|empty VALUE]",
    args=(
        ArgSpec("key", "Which setting", ArgKind.CHOICE, choices=_KEYS),
        ArgSpec("value", "Its new value: a number, or on/off"),
    ),
)
async def settings(ctx: CommandContext) -> TextReply:
    """Show or change this channel's digest settings.

    `max` papers per digest section (1-25), `min-upvotes`, `trending` on/off (include the day's top
    papers, not only topic matches), `weekends` on/off, `empty` on/off (post even when nothing is new).
    """
    words = ctx.words()
    channel = await ctx.engine.channel(ctx.channel)
    if not words:
        return TextReply("Settings: " + describe_settings(channel.settings), private=True)
    if len(words) != 2:
        raise CommandError("Usage: `settings KEY VALUE`, for example `settings max 5` or `settings trending off`.")
    key = words[0].lower()
    if key not in _KEYS:
        raise CommandError(f"Unknown setting `{key[:30]}`. Settings: {', '.join(_KEYS)}.")
    require_manager(ctx, "settings")
    new = apply_setting(channel.settings, key, words[1])
    await ctx.engine.db.channels.update(ctx.channel, settings=new)
    return TextReply("Settings: " + describe_settings(new))


@registry.command("status", usage="status")
async def status(ctx: CommandContext) -> Status:
    """Last and next digest, the last delivery's result, and the health of the paper sources."""
    engine = ctx.engine
    channel = await engine.channel(ctx.channel)
    now = engine.clock.now()
    db = engine.db
    return Status(
        channel=ctx.channel,
        digest_enabled=channel.digest_enabled,
        digest_time=channel.digest_time,
        timezone=channel.timezone,
        next_digest_at=next_digest_at(channel, now),
        last_digest_at=channel.last_digest_at,
        last_delivery=await db.deliveries.last_for_channel(ctx.channel),
        paused_reason=channel.paused_reason,
        sources=tuple(await db.sources.all()),
        papers_stored=await db.papers.count(),
        latest_day=await db.papers.latest_featured_day(on_or_before=now.date()),
        topics=await db.subscriptions.count(ctx.channel),
        private=True,
    )


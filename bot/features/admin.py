"""Per-channel settings and status."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Annotated, Literal

from bot.channels import Channels
from bot.clock import Clock
from bot.commands import Arg, CommandError, Context, Router
from bot.ports import DeliveryStore, PaperStore, SourceHealthLog, SubscriptionStore
from bot.scheduler import next_digest_at
from bot.types import Audience, ChannelSettings, Status, TextReply

MAX_PER_DIGEST = 25
MAX_MIN_UPVOTES = 10_000
_SWITCH = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False}
_NUMBER = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True, slots=True)
class AdminServices:
    channels: Channels
    subscriptions: SubscriptionStore
    deliveries: DeliveryStore
    sources: SourceHealthLog
    papers: PaperStore
    clock: Clock


router: Router[AdminServices] = Router("admin")
Ctx = Context[AdminServices]


def describe_settings(s: ChannelSettings) -> str:
    def onoff(v: bool) -> str:
        return "on" if v else "off"

    return (
        f"max {s.max_papers} papers per digest section · min-upvotes {s.min_upvotes} · "
        f"trending {onoff(s.trending)} · weekends {onoff(s.weekends)} · empty {onoff(s.empty)}"
    )


def _number(value: str, lo: int, hi: int, key: str) -> int:
    if not _NUMBER.fullmatch(value) or not lo <= int(value) <= hi:
        raise CommandError(f"`{key}` takes a number from {lo} to {hi}.")
    return int(value)


def apply_setting(s: ChannelSettings, key: str, value: str) -> ChannelSettings:
    if key == "max":
        return replace(s, max_papers=_number(value, 1, MAX_PER_DIGEST, key))
    if key == "min-upvotes":
        return replace(s, min_upvotes=_number(value, 0, MAX_MIN_UPVOTES, key))
    switch = _SWITCH.get(value.lower())
    if switch is None:
        raise CommandError(f"`{key}` takes `on` or `off`.")
    field = {"trending": "trending", "weekends": "weekends", "empty": "empty"}[key]
    return replace(s, **{field: switch})


SettingKey = Annotated[
    Literal["max", "min-upvotes", "trending", "weekends", "empty"], Arg("Which setting", what="setting")
]
SettingValue = Annotated[str, Arg("Its new value: a number, or on/off", metavar="VALUE")]


@router.command(audience=Audience.MANAGERS_TO_CHANGE)
async def settings(ctx: Ctx, key: SettingKey | None = None, value: SettingValue | None = None) -> TextReply:
    """Show or change this channel's digest settings.

    `max` papers per digest section (1-25), `min-upvotes`, `trending` on/off (include the day's top
    papers, not only topic matches), `weekends` on/off, `empty` on/off (post even when nothing is new).
    """
    channel = await ctx.services.channels.ensure(ctx.channel)
    if key is None:
        return TextReply("Settings: " + describe_settings(channel.settings), private=True)
    if value is None:
        raise CommandError("Usage: `settings KEY VALUE`, for example `settings max 5` or `settings trending off`.")
    ctx.require_manager("settings")
    new = apply_setting(channel.settings, key, value)
    await ctx.services.channels.store.update(ctx.channel, settings=new)
    return TextReply("Settings: " + describe_settings(new))


@router.command(private=True)
async def status(ctx: Ctx) -> Status:
    """Last and next digest, the last delivery's result, and the health of the paper sources."""
    services = ctx.services
    channel = await services.channels.ensure(ctx.channel)
    now = services.clock.now()
    return Status(
        channel=ctx.channel,
        digest_enabled=channel.digest_enabled,
        digest_time=channel.digest_time,
        timezone=channel.timezone,
        next_digest_at=next_digest_at(channel, now),
        last_digest_at=channel.last_digest_at,
        last_delivery=await services.deliveries.last_for_channel(ctx.channel),
        paused_reason=channel.paused_reason,
        sources=tuple(await services.sources.all()),
        papers_stored=await services.papers.count(),
        latest_day=await services.papers.latest_featured_day(on_or_before=now.date()),
        topics=await services.subscriptions.count(ctx.channel),
        private=True,
    )

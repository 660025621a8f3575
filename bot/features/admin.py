"""Per-channel settings and status."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Annotated, Literal

from bot.channel_notes import ChannelNotes
from bot.channels import Channels
from bot.clock import Clock
from bot.commands import Arg, CommandError, Context, Router
from bot.ports import DeliveryStore, PaperStore, ScheduleListener, SourceHealthLog, SubscriptionStore
from bot.scheduler import next_digest_at
from bot.types import WEEKDAYS, Audience, ChannelSettings, DeliveryKind, Platform, Status, TextReply

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
    schedule: ScheduleListener | None = None
    notes: ChannelNotes | None = None


router: Router[AdminServices] = Router("admin")
Ctx = Context[AdminServices]


def describe_settings(s: ChannelSettings) -> str:
    def onoff(v: bool) -> str:
        return "on" if v else "off"

    weekly = f"on {WEEKDAYS[s.weekly_day]}" if s.weekly_day is not None else "off"
    learning = "auto" if s.learning is None else onoff(s.learning)
    return (
        f"max {s.max_papers} papers per digest section · min-upvotes {s.min_upvotes} · "
        f"trending {onoff(s.trending)} · weekends {onoff(s.weekends)} · empty {onoff(s.empty)} · "
        f"followups {onoff(s.followups)} · rising {onoff(s.rising)} · weekly {weekly} · threads {onoff(s.threads)} · "
        f"learning {learning} · learning-trending {onoff(s.learn_trending)} · "
        f"votes {'shown' if s.votes_shown else 'hidden'}"
    )


def _number(value: str, lo: int, hi: int, key: str) -> int:
    if not _NUMBER.fullmatch(value) or not lo <= int(value) <= hi:
        raise CommandError(f"`{key}` takes a number from {lo} to {hi}.")
    return int(value)


def _weekday(value: str) -> int:
    name = value.lower()
    found = [i for i, day in enumerate(WEEKDAYS) if len(name) >= 3 and day.startswith(name)]
    if len(found) != 1:
        raise CommandError("`weekly` takes `on` or `off` and a day: `settings weekly on friday`.")
    return found[0]


def apply_setting(s: ChannelSettings, key: str, value: str, day: str | None = None) -> ChannelSettings:
    if day is not None and key != "weekly":
        raise CommandError(f"`{key}` takes one value; only `weekly` takes a day (`settings weekly on friday`).")
    if key == "max":
        return replace(s, max_papers=_number(value, 1, MAX_PER_DIGEST, key))
    if key == "min-upvotes":
        return replace(s, min_upvotes=_number(value, 0, MAX_MIN_UPVOTES, key))
    if key == "votes":
        shown = {"shown": True, "show": True, "hidden": False, "hide": False}.get(
            value.lower(), _SWITCH.get(value.lower())
        )
        if shown is None:
            raise CommandError("`votes` takes `shown` or `hidden`.")
        return replace(s, votes_shown=shown)
    switch = _SWITCH.get(value.lower())
    if key == "learning":
        if value.lower() == "auto":
            return replace(s, learning=None)
        if switch is None:
            raise CommandError("`learning` takes `on`, `off` or `auto` (on once the channel has 5 votes).")
        return replace(s, learning=switch)
    if key == "learning-trending":
        if switch is None:
            raise CommandError("`learning-trending` takes `on` or `off`.")
        return replace(s, learn_trending=switch)
    if key == "weekly":
        if switch is None and day is None:  # `settings weekly friday`
            return replace(s, weekly_day=_weekday(value))
        if switch is None:
            raise CommandError("`weekly` takes `on` or `off` and a day: `settings weekly on friday`.")
        if not switch:
            if day is not None:
                raise CommandError("`settings weekly off` takes no day.")
            return replace(s, weekly_day=None)
        return replace(s, weekly_day=_weekday(day) if day is not None else (s.weekly_day or 0))
    if switch is None:
        raise CommandError(f"`{key}` takes `on` or `off`.")
    if key not in ("trending", "weekends", "empty", "followups", "rising", "threads"):
        raise CommandError(f"There is no setting `{key}`.")
    return replace(s, **{key: switch})


SettingKey = Annotated[
    Literal[
        "max",
        "min-upvotes",
        "trending",
        "weekends",
        "empty",
        "followups",
        "rising",
        "weekly",
        "threads",
        "learning",
        "learning-trending",
        "votes",
    ],
    Arg("Which setting", what="setting"),
]
SettingValue = Annotated[str, Arg("Its new value: a number, or on/off", metavar="VALUE")]
WeekdayName = Annotated[
    Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    Arg("The weekly rollup's day (weekly only)", what="day of the week", metavar="DAY"),
]


@router.command(audience=Audience.MANAGERS_TO_CHANGE)
async def settings(
    ctx: Ctx, key: SettingKey | None = None, value: SettingValue | None = None, day: WeekdayName | None = None
) -> TextReply:
    """Show or change this channel's digest settings.

    `max` papers per digest section (1-25), `min-upvotes`, `trending` on/off (include the day's top
    papers, not only topic matches), `weekends` on/off, `empty` on/off (post even when nothing is new),
    `followups` on/off (reply in a paper's thread when its code, models, datasets or Spaces appear),
    `rising` on/off (bring back a paper of your interests that climbs fast), `weekly on [monday|...]`
    or `weekly off` (a rollup of the week's topics, at the digest time), `threads` on/off (open a
    discussion thread on each digest, named by day, in a Discord text or announcement channel),
    `learning` on/off/auto (order the topic section by this channel's 👍/👎; auto: on once it has 5
    votes), `learning-trending` on/off
    (let the votes reorder the trending section too), `votes shown|hidden` (votes on each digest paper).
    """
    channel = await ctx.services.channels.ensure(ctx.channel)
    if key is None:
        return TextReply("Settings: " + describe_settings(channel.settings), private=True)
    if value is None:
        raise CommandError("Usage: `settings KEY VALUE`, for example `settings max 5` or `settings trending off`.")
    ctx.require_manager("settings")
    new = apply_setting(channel.settings, key, value, day)
    updated = await ctx.services.channels.store.update(ctx.channel, settings=new)
    if ctx.services.schedule is not None:
        ctx.services.schedule.channel_changed(updated)
    reply = "Settings: " + describe_settings(new)
    if key == "threads" and new.threads and ctx.channel.platform is not Platform.DISCORD:
        # Said, not refused: the setting is the channel's and would apply if it were a Discord channel.
        reply += "\nOnly Discord channels open a thread per digest; here a long digest keeps its thread for the rest."
    return TextReply(reply)


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
        last_delivery=await services.deliveries.last_for_channel(ctx.channel, DeliveryKind.DIGEST),
        paused_reason=channel.paused_reason,
        sources=tuple(await services.sources.all()),
        papers_stored=await services.papers.count(),
        latest_day=await services.papers.latest_featured_day(on_or_before=now.date()),
        topics=await services.subscriptions.count(ctx.channel),
        private=True,
        settings=channel.settings,
        last_followup=await services.deliveries.last_for_channel(ctx.channel, DeliveryKind.FOLLOWUP),
        last_weekly=await services.deliveries.last_for_channel(ctx.channel, DeliveryKind.WEEKLY),
        notes=await services.notes.get(ctx.channel) if services.notes is not None else (),
    )

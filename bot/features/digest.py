"""The channel's daily digest: schedule, on/off, now, preview."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Annotated, Literal

from bot.channels import Channels
from bot.clock import Clock
from bot.commands import Arg, CommandError, Context, Router
from bot.config import check_timezone, parse_hhmm
from bot.digest import DigestBuilder
from bot.digest_run import DigestRunner, RunOutcome
from bot.ports import ScheduleListener
from bot.scheduler import next_digest_at
from bot.types import Audience, Channel, Digest, TextReply


@dataclass(frozen=True, slots=True)
class DigestServices:
    channels: Channels
    digests: DigestBuilder
    clock: Clock
    runner: DigestRunner | None = None
    """None where nothing can be posted (a one-off CLI command)."""
    schedule: ScheduleListener | None = None


router: Router[DigestServices] = Router("digest")


def describe_schedule(channel: Channel) -> str:
    state = "on" if channel.digest_enabled else "off"
    text = f"The daily digest is {state}, at {channel.digest_time:%H:%M} {channel.timezone}"
    if channel.paused_reason:
        text += f"; it is paused: {channel.paused_reason}"
    return text + "."


DigestAction = Annotated[
    Literal["at", "on", "off", "now", "preview"], Arg("at, on, off, now or preview", what="digest action")
]
TimeOfDay = Annotated[dt.time, Arg("For `at`: time of day, HH:MM (24h)", metavar="HH:MM", convert=parse_hhmm)]
Timezone = Annotated[str, Arg("For `at`: IANA timezone, e.g. Europe/Paris", metavar="timezone", convert=check_timezone)]


@router.command(audience=Audience.MANAGERS_TO_CHANGE)
async def digest(
    ctx: Context[DigestServices],
    action: DigestAction | None = None,
    time: TimeOfDay | None = None,
    timezone: Timezone | None = None,
) -> TextReply | Digest:
    """The channel's daily digest: when, on or off, post it now, or preview it privately.

    `digest at 08:30 Europe/Paris` sets the time (timezone optional: the channel's current one).
    `digest now` posts today's digest at once through the same path as the schedule; it never
    re-posts a paper. `digest preview` shows privately what the next digest would contain.
    """
    services = ctx.services
    channel = await services.channels.ensure(ctx.channel)
    if action is None:
        nxt = next_digest_at(channel, services.clock.now())
        when = f" Next: {nxt:%Y-%m-%d %H:%M} UTC." if nxt else ""
        return TextReply(describe_schedule(channel) + when, private=True)
    if action == "at":
        if time is None:
            raise CommandError("Usage: `digest at HH:MM [timezone]`, for example `digest at 08:30 Europe/Paris`.")
    elif time is not None or timezone is not None:
        raise CommandError(f"Usage: `digest {action}`.")
    if action == "preview":
        preview = await services.digests.build(channel, now=services.clock.now())
        note = "Preview: this is what the next digest would contain." + ("" if preview.entries else " Nothing new yet.")
        if preview.note:
            note += f" {preview.note}"
        return replace(preview, private=True, note=note)
    ctx.require_manager(f"digest {action}")
    store = services.channels.store
    if action == "at":
        assert time is not None
        channel = await store.update(ctx.channel, digest_time=time, timezone=timezone or channel.timezone)
        _notify(services, channel)
        return TextReply(describe_schedule(channel))
    if action in ("on", "off"):
        channel = await store.update(ctx.channel, digest_enabled=action == "on")
        if action == "on" and channel.paused_reason:
            # Turning the digest on is how a manager says the problem that paused it is fixed.
            await store.resume(ctx.channel)
            channel = replace(channel, paused_reason=None)
        _notify(services, channel)
        return TextReply(describe_schedule(channel))
    if services.runner is None:
        raise CommandError("Posting is not available in this mode.")
    run = await services.runner.run(ctx.channel, manual=True)
    return TextReply(_run_reply(run.outcome, run.papers, run.detail), private=True)


def _notify(services: DigestServices, channel: Channel) -> None:
    if services.schedule is not None:
        services.schedule.channel_changed(channel)


def _run_reply(outcome: RunOutcome, papers: int, detail: str) -> str:
    match outcome:
        case RunOutcome.SENT | RunOutcome.RECOVERED:
            return f"Posted today's digest ({papers} paper{'' if papers == 1 else 's'})."
        case RunOutcome.ALREADY:
            return "Today's digest was already posted in this channel; every paper is posted once."
        case RunOutcome.EMPTY:
            return "Nothing new for this channel today, so nothing was posted (`settings empty on` posts anyway)."
        case RunOutcome.BUSY:
            return "Today's digest is being posted right now by another Paperboy process."
        case RunOutcome.PAUSED:
            return f"Could not post: {detail}. The digest is paused; fix it, then `digest on`."
        case RunOutcome.NO_ADAPTER:
            return "This platform is not connected right now, so nothing was posted."
        case _:
            return f"Could not post the digest now ({detail or outcome.value}); it will be retried."

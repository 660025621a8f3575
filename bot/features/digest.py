"""The channel's daily digest: schedule, on/off, now, preview."""

from __future__ import annotations

from dataclasses import replace

from bot.commands import CommandContext, CommandError, registry, require_manager
from bot.config import check_timezone, parse_hhmm
from bot.digest import build_digest
from bot.digest_run import RunOutcome
from bot.scheduler import next_digest_at
from bot.types import ArgKind, ArgSpec, Channel, Digest, TextReply

_ACTIONS = ("at", "on", "off", "now", "preview")


def describe_schedule(channel: Channel) -> str:
    state = "on" if channel.digest_enabled else "off"
    text = f"The daily digest is {state}, at {channel.digest_time:%H:%M} {channel.timezone}"
    if channel.paused_reason:
        text += f"; it is paused: {channel.paused_reason}"
    return text + "."


def _notify(ctx: CommandContext, channel: Channel) -> None:
    if ctx.engine.schedule is not None:
        ctx.engine.schedule.channel_changed(channel)


@registry.command(
    "digest",
    usage="digest at HH:MM [timezone] | digest on | digest off | digest now | digest preview",
    args=(
        ArgSpec("action", "at, on, off, now or preview", ArgKind.CHOICE, required=True, choices=_ACTIONS),
        ArgSpec("time", "For `at`: time of day, HH:MM (24h)"),
        ArgSpec("timezone", "For `at`: IANA timezone, e.g. Europe/Paris"),
    ),
)
async def digest(ctx: CommandContext) -> TextReply | Digest:
    """The channel's daily digest: when, on or off, post it now, or preview it privately.

    `digest at 08:30 Europe/Paris` sets the time (timezone optional: the channel's current one).
    `digest now` posts today's digest at once through the same path as the schedule; it never
    re-posts a paper. `digest preview` shows privately what the next digest would contain.
    """
    words = ctx.words()
    engine = ctx.engine
    channel = await engine.channel(ctx.channel)
    if not words:
        nxt = next_digest_at(channel, engine.clock.now())
        when = f" Next: {nxt:%Y-%m-%d %H:%M} UTC." if nxt else ""
        return TextReply(describe_schedule(channel) + when, private=True)
    action = words[0].lower()
    if action not in _ACTIONS:
        raise CommandError(f"Unknown digest action `{action[:20]}`. Use one of: {', '.join(_ACTIONS)}.")
    if action == "preview":
        if len(words) != 1:
            raise CommandError("Usage: `digest preview`.")
        preview = await build_digest(engine.db, channel, now=engine.clock.now())
        note = "Preview: this is what the next digest would contain." + (
            "" if preview.entries else " Nothing new yet."
        )
        return replace(preview, private=True, note=note)
    require_manager(ctx, f"digest {action}")
    if action == "at":
        if len(words) not in (2, 3):
            raise CommandError("Usage: `digest at HH:MM [timezone]`, for example `digest at 08:30 Europe/Paris`.")
        try:
            at = parse_hhmm(words[1])
            tz = check_timezone(words[2]) if len(words) == 3 else channel.timezone
        except ValueError as exc:
            raise CommandError(f"{exc}.") from None
        channel = await engine.db.channels.update(ctx.channel, digest_time=at, timezone=tz)
        _notify(ctx, channel)
        return TextReply(describe_schedule(channel))
    if len(words) != 1:
        raise CommandError(f"Usage: `digest {action}`.")
    if action in ("on", "off"):
        channel = await engine.db.channels.update(ctx.channel, digest_enabled=action == "on")
        if action == "on" and channel.paused_reason:
            # Turning the digest on is how a manager says the problem that paused it is fixed.
            await engine.db.channels.resume(ctx.channel)
            channel = replace(channel, paused_reason=None)
        _notify(ctx, channel)
        return TextReply(describe_schedule(channel))
    if engine.digests is None:
        raise CommandError("Posting is not available in this mode.")
    run = await engine.digests.run(ctx.channel, manual=True)
    return TextReply(_run_reply(run.outcome, run.papers, run.detail), private=True)


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

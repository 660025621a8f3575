"""`paperboy demo`: the whole product on its embedded defaults, in a few seconds, with no network.

A fresh SQLite database under the data dir, the bundled real sample, and the console channel. The demo
clock starts two days before the sample's last Daily Papers day, when the channel subscribes to two
topics and the operator follows one for themselves, then moves to the next morning's 09:00, when the
scheduler's digest job runs for the channel and the operator's direct message.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, time, timedelta

from adapters.console import CONSOLE_CHANNEL, ConsoleAdapter
from bot.clock import FixedClock
from bot.config import Settings
from bot.ingest import describe_result, seed_sample_if_empty
from bot.sources.sample import SAMPLE_LAST_DAY
from paperboy.app import Chat, Paperboy, Profile
from storage import Database

TOPICS = ('moe OR "mixture of experts"', "agent -survey")
FOLLOW = '"video generation" OR diffusion'
DEMO = Profile(Chat.CONSOLE)


def _say(text: str) -> None:
    print(f"\033[1m{text}\033[0m" if sys.stdout.isatty() else text, flush=True)


async def run_demo(settings: Settings) -> int:
    path = settings.data_dir / "demo.db"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    start = datetime.combine(SAMPLE_LAST_DAY - timedelta(days=2), time(15, 0), UTC)
    clock = FixedClock(start)
    db = await Database.connect(f"sqlite+aiosqlite:///{path}")
    await db.upgrade()
    console = ConsoleAdapter(clock)
    offline = settings.model_copy(update={"offline": True})
    async with Paperboy(offline, profile=DEMO, clock=clock, database=db, chat=[console]) as app:
        seeded = await seed_sample_if_empty(app.db, clock, progress=True)
        _say(f"Paperboy demo · database {path} · bundled sample: {describe_result(seeded) if seeded else 'loaded'}")
        _say(f"It is {clock.now():%a %d %b %Y %H:%M} UTC in the console channel #{CONSOLE_CHANNEL.channel_id}.\n")

        for line in ("/papers today 5", '/papers search moe OR "mixture of experts"'):
            _say(f"> {line}")
            await console.command(line)
        for topic in TOPICS:
            _say(f"> /papers subscribe {topic}")
            await console.command(f"/papers subscribe {topic}")
        _say("> /papers topics")
        await console.command("/papers topics")
        _say(f"> /papers follow {FOLLOW}   (for you alone: its matches come by direct message)")
        await console.command(f"/papers follow {FOLLOW}")

        clock.set(datetime.combine(SAMPLE_LAST_DAY + timedelta(days=1), time(9, 0), UTC))
        _say(f"… time passes: it is now {clock.now():%a %d %b %Y %H:%M} UTC, the channel's digest time.")
        _say("The scheduler's digest job runs for the channel and your DM (claim, select, post, record):\n")
        runs = await app.scheduler.catch_up()
        for run in runs:
            _say(f"digest for {run.channel.key}: {run.outcome.value}, {run.papers} papers")
        _say("> /papers digest now   (the same day again: every paper is posted once)")
        await console.command("/papers digest now")
        _say("> /papers status")
        await console.command("/papers status")
    ok = any(r.outcome.value == "sent" for r in runs)
    return 0 if ok else 1

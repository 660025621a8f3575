"""How long a dead replica's work waits: from its SIGKILL to the last part of every digest delivered.

Two `paperboy run` replicas on one PostgreSQL race for the digests of `--channels` Slack channels (each
digest two parts: the channel message and a thread reply) against the loopback fake Slack; one replica
is SIGKILLed mid fan-out and never restarted. The survivor must take over the dead replica's claims once
its lease lapses (PAPERBOY_DELIVERY__LEASE_SECONDS, default 15 s) and finish every digest, posting only
the missing parts. Each run prints the seconds from the kill to the last part, and the exactly-once
counts (digests whole, parts doubled, parts missing); the median of `--runs` runs closes the report.

    python bench/takeover.py [--database postgresql://postgres@127.0.0.1:5432/test] [--runs 3]

Each run uses a fresh database on that server (created and dropped). The lease and the recovery
interval are Paperboy's defaults unless given (`--lease`, `--recover`).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import DeliverySettings, Settings
from bot.types import DeliveryKind
from storage import Database
from tests.fakes.slack import FakeSlack
from tests.reliability.support import (
    Bot,
    free_port,
    prepare_due_channels,
    run_env,
    slack_expected_parts,
    slack_last_post_at,
    slack_parts,
    wait_all_sent,
    wait_until,
)

TOKEN = "xoxb-bench"


async def fresh_database(base: str) -> tuple[str, str]:
    name = f"paperboy_takeover_{uuid.uuid4().hex[:10]}"
    plain = make_url(base).set(drivername="postgresql")
    admin = await asyncpg.connect(plain.render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return plain.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False), name


async def drop_database(base: str, name: str) -> None:
    admin = await asyncpg.connect(make_url(base).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def one_run(base: str, channels: int, seed: int, lease: float | None, recover: float | None) -> dict[str, float]:
    url, name = await fresh_database(base)
    tmp = Path(tempfile.mkdtemp(prefix="paperboy-takeover-"))
    fake = await FakeSlack().start()
    fake.add_workspace("T1", TOKEN)
    bots: list[Bot] = []
    try:
        refs, day = await prepare_due_channels(Settings(data_dir=tmp, database_url=url, offline=True), channels)
        extra: dict[str, str] = {}
        if lease is not None:
            extra["PAPERBOY_DELIVERY__LEASE_SECONDS"] = str(lease)
        if recover is not None:
            extra["PAPERBOY_DELIVERY__RECOVER_INTERVAL_SECONDS"] = str(recover)

        def env() -> dict[str, str]:
            return run_env(
                PAPERBOY_DATA_DIR=str(tmp / "data"),
                PAPERBOY_DATABASE_URL=url,
                PAPERBOY_OFFLINE="true",
                SLACK_BOT_TOKEN=TOKEN,
                SLACK_SIGNING_SECRET="secret",
                PAPERBOY_SLACK__API_URL=fake.api_url,
                PAPERBOY_HTTP__PORT=str(free_port()),
                **extra,
            )

        victim = await Bot.start(env(), tmp, tmp / "victim.log")
        survivor = await Bot.start(env(), tmp, tmp / "survivor.log")
        bots += [victim, survivor]
        kill_after = random.Random(seed).randint(channels // 5, channels // 2)
        await wait_until(lambda: len(fake.posts) >= kill_after, 120, what=f"{kill_after} posts", step=0.005)
        victim.kill()
        await victim.wait(10)
        died = time.monotonic()
        await wait_all_sent(url, refs, day, 120)
        finished = slack_last_post_at(fake) - died
        await survivor.stop()
        parts = slack_parts(fake)
        db = await Database.connect(url)
        whole = doubled = missing = 0
        try:
            for ref in refs:
                d = await db.deliveries.get_by_key(ref, DeliveryKind.DIGEST, day)
                assert d is not None
                want = Counter(range(slack_expected_parts(len(d.paper_ids))))
                got = parts.get((ref.channel_id, d.id), Counter())
                whole += got == want
                doubled += sum(max(0, n - 1) for n in got.values())
                missing += sum(1 for p in want if p not in got)
        finally:
            await db.close()
        return {
            "kill_after": kill_after,
            "seconds": finished,
            "whole": whole,
            "doubled": doubled,
            "missing": missing,
            "channels": len(refs),
            "posts": len(fake.posts),
        }
    finally:
        for b in bots:
            b.kill()
        await fake.stop()
        await drop_database(base, name)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lease", type=float, help="PAPERBOY_DELIVERY__LEASE_SECONDS (default: Paperboy's)")
    parser.add_argument("--recover", type=float, help="PAPERBOY_DELIVERY__RECOVER_INTERVAL_SECONDS")
    args = parser.parse_args()
    defaults = DeliverySettings()
    lease = args.lease or defaults.lease_seconds
    recover = args.recover or defaults.recover_interval_seconds
    print(
        f"takeover: 2 replicas, {args.channels} Slack channels (2 parts each), one replica SIGKILLed mid fan-out; "
        f"lease {lease:g} s, recovery every {recover:g} s (bound: about {lease + recover:g} s plus the work)"
    )
    seconds: list[float] = []
    for run in range(1, args.runs + 1):
        r = await one_run(args.database, args.channels, seed=run, lease=args.lease, recover=args.recover)
        seconds.append(r["seconds"])
        print(
            f"  run {run}: killed after {r['kill_after']:.0f} posts; last part {r['seconds']:.1f} s after the kill; "
            f"{r['whole']:.0f}/{r['channels']:.0f} digests whole, {r['doubled']:.0f} parts doubled, "
            f"{r['missing']:.0f} missing ({r['posts']:.0f} posts)"
        )
    print(f"median time from the kill to the last part: {statistics.median(seconds):.1f} s (target: within 30 s)")


if __name__ == "__main__":
    asyncio.run(main())

"""What following posted papers costs: one full paper-info pass over 10,000 posted papers, then the
follow-ups it finds.

A SQLite database holds `--papers` papers (the archive's 7,585 and copies under new ids), each posted in
`--channels-per-paper` of 100 channels within the follow-up window. A fake Hub in a process of its own
serves `GET /api/papers/{id}`; `--gaining` of the papers have gained a model there. The real
`PaperInfoPoll` (the real Hugging Face client, huggingface_hub's HTTP stack) makes one full pass with its
pacing switched off, so the pass is measured as Paperboy's own cost, and the pacing is computed:

- calls for the full pass, next to the Hub's allowance (about 500 calls per 5 minutes anonymously,
  1,000 with a token) and the poll's budget (400 / 800 by default, the rest left to the ingest and
  searches); the time one full pass takes at that budget, next to the issue's target (news within a day);
- Paperboy's wall time and CPU for the pass with pacing off (the client, parsing, storing);
- the follow-ups due query and posting them to a memory channel (the delivery path without a network).

    python bench/followups.py [--papers 10000] [--gaining 1000] [--channels-per-paper 3]

Prints figures only: no pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from adapters.memory import MemoryAdapter  # noqa: E402
from bot.clock import FixedClock  # noqa: E402
from bot.config import FollowUpSettings  # noqa: E402
from bot.delivery import Deliverer  # noqa: E402
from bot.followups import POLL_PERIOD, FollowUps, PaperInfoPoll  # noqa: E402
from bot.sources.hf import HfDailyPapers  # noqa: E402
from bot.sources.records import parse_daily_paper  # noqa: E402
from bot.types import ChannelRef, Platform  # noqa: E402
from storage import Database  # noqa: E402

NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
CHANNELS = 100
HUB_ANONYMOUS, HUB_TOKEN = 500, 1000  # calls per 5 minutes the Hub allows


def bench_papers(count: int) -> list[dict[str, Any]]:
    """`count` paper objects: the archive's, then copies under new arXiv-style ids."""
    from tests.fakes.hf import records_by_id

    base = list(records_by_id().values())
    found = [dict(p) for p in base[:count]]
    for n in range(count - len(found)):
        copy = dict(base[n % len(base)])
        copy["id"] = f"2601.{n:05d}"
        found.append(copy)
    return found


def serve_hub(conn: Connection, papers: int, gaining: int) -> None:
    """The fake Hub in a process of its own, so it takes none of this process's CPU."""
    from tests.fakes.hf import Release, linked, serve_fake_hub

    objects = bench_papers(papers)
    with serve_fake_hub() as hub:
        hub.extra_papers = {p["id"]: p for p in objects}
        day = NOW.date()
        hub.releases = [Release(p["id"], day, linked("Models", f"org/{p['id']}-7b")) for p in objects[:gaining]]
        conn.send(hub.url)
        conn.recv()  # until told to stop


async def prepare(url: str, papers: int, per_paper: int) -> tuple[Database, list[ChannelRef]]:
    db = await Database.connect(url)
    await db.upgrade()
    objects = bench_papers(papers)
    parsed = [parse_daily_paper(o) for o in objects]
    for start in range(0, len(parsed), 2000):
        await db.papers.upsert(parsed[start : start + 2000], seen_at=NOW - timedelta(days=3))
    refs = [ChannelRef(Platform.CONSOLE, "W", f"C{i:03d}") for i in range(CHANNELS)]
    for ref in refs:
        await db.channels.ensure(ref, digest_time=NOW.time(), timezone="UTC", now=NOW - timedelta(days=3))
    posted_at = NOW - timedelta(days=2)
    rows = [
        {"c": 1 + (i * per_paper + k) % CHANNELS, "p": p.id, "at": posted_at}
        for i, p in enumerate(parsed)
        for k in range(per_paper)
    ]
    async with db.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO posted_papers (channel_pk, paper_id, delivery_id, posted_at) VALUES (:c, :p, NULL, :at)"),
            rows,
        )
    return db, refs


async def main(args: argparse.Namespace) -> None:
    parent, child = multiprocessing.Pipe()
    hub = multiprocessing.get_context("spawn").Process(target=serve_hub, args=(child, args.papers, args.gaining))
    hub.start()
    url_of_hub = parent.recv()
    tmp = Path(tempfile.mkdtemp(prefix="paperboy-followups-"))
    try:
        started = time.perf_counter()
        db, _ = await prepare(f"sqlite+aiosqlite:///{tmp / 'bench.db'}", args.papers, args.channels_per_paper)
        print(
            f"prepared {args.papers:,} papers posted in {CHANNELS} channels "
            f"({args.papers * args.channels_per_paper:,} posts) in {time.perf_counter() - started:.1f} s"
        )
        clock = FixedClock(NOW)
        window = timedelta(days=FollowUpSettings().window_days)
        hf = HfDailyPapers(url_of_hub, None, 20.0)

        async def no_sleep(_: float) -> None:
            return None

        for label, has_token, allowed in (("anonymous", False, HUB_ANONYMOUS), ("with a token", True, HUB_TOKEN)):
            budget = FollowUpSettings().budget(has_token)
            paced = PaperInfoPoll(hf, db, clock, window=window, budget=budget)
            minutes = args.papers * paced.spacing / 60
            print(
                f"full pass {label}: {args.papers:,} calls at {budget} per 5 min (the Hub allows ~{allowed}): "
                f"{minutes:.0f} min at that budget (target: news within 24 h = {24 * 60} min)"
            )
        poll = PaperInfoPoll(hf, db, clock, window=window, budget=1000, sleep=no_sleep)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        run = await poll.run(calls=args.papers)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        print(
            f"the pass itself, pacing off: {run.calls:,} calls ({run.errors} errors), {run.updated:,} papers updated, "
            f"{wall:.1f} s wall, {cpu:.1f} s CPU = {1000 * cpu / max(run.calls, 1):.2f} ms CPU per call "
            f"(paced at 400 per 5 min, that is {100 * cpu / (args.papers * POLL_PERIOD.total_seconds() / 400):.2f}% "
            "of one core)"
        )
        memory = MemoryAdapter(Platform.CONSOLE)
        deliverer = Deliverer(db.deliveries, db.channels, {Platform.CONSOLE: memory}, clock, replica_id="bench")
        followups = FollowUps(db, deliverer, clock, window=window)
        wall0 = time.perf_counter()
        due = await db.followups.due(posted_since=NOW - window)
        query = time.perf_counter() - wall0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = await followups.run()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        print(
            f"follow-ups due: {len(due):,} (of {args.gaining:,} papers x {args.channels_per_paper} channels) "
            f"found in {query * 1000:.0f} ms; posted {len(memory.posted):,} in {wall:.1f} s "
            f"({1000 * cpu / max(len(memory.posted), 1):.2f} ms CPU each); {result.summary}"
        )
        again = await followups.run()
        print(f"a second pass: {again.summary} (once per channel, paper and kind)")
        await db.close()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process: {peak:.0f} MB")
    finally:
        parent.send("stop")
        hub.join(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--gaining", type=int, default=1_000)
    parser.add_argument("--channels-per-paper", type=int, default=3)
    asyncio.run(main(parser.parse_args()))

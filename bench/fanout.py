"""Fan-out benchmark (DESIGN §12): digest build, delivery against rate-limiting fakes, memory.

Run: .venv/bin/python bench/fanout.py [--parts build,deliver,forums,memory] [--channels 10000] [--deliver-channels 2000]
     [--database postgresql://postgres@127.0.0.1:5432/test]

With --database, the delivery part keeps its claims and records (deliveries, parts, posted papers) in a
fresh PostgreSQL database created on that server for the run and dropped after it; otherwise SQLite. With
--replicas 2 (needs --database), two Paperboy instances on that database fan the Discord digests out
together, each with half of the 50 requests/s; lost and duplicated posts are read from the fake as before.

1. digest build: 10,000 channels with 30,000 topic subscriptions (bench/match.py's realistic queries)
   (then again with 5,000 of them learning from 200 votes each, next to the same build without votes)
   against one Daily Papers day of 200 papers: select every digest (`bot.digest.select_entries` with
   `topic_windows`) and render it (Slack and Discord renderers), with one PaperIndex per channel (no
   sharing) and with one index shared by the fan-out (what `build_digest` does: one index per distinct
   pool of papers); next to the naive reference
   (`match()` for every topic and paper). Slow sides run on a sample and are extrapolated, and say so.
2. delivery: the real engine, Deliverer and adapters fan out to 2,000 Slack channels through FakeSlack
   enforcing ~1 message per second per channel (429 + Retry-After beyond it), and to 2,000 Discord
   channels through FakeDiscord enforcing 50 requests per second globally (a global 429 beyond it). The
   fakes run in a process of their own, as the platforms would. Printed: Discord's requests accepted per
   second (counted by the fake: messages, threads started from them, replies; 429s left out) against its
   50 requests/s ceiling, and posts and digests per second beside them; Slack's per-channel pacing
   against its 1 post/s and, since 2,000 channels together allow far more than one process can send,
   the share of one core the fan-out kept busy; CPU per digest; 429s; lost and duplicated posts, read
   from the fakes.
2b. forums: a 20-paper digest to 100 Discord forum channels, a post per paper (`ForumChannel.create_thread`)
   through the Deliverer, against FakeDiscord enforcing 50 requests per second globally and a per-forum
   post bucket (429 with X-RateLimit-* headers, which discord.py paces by). Printed: posts per second and
   requests accepted against the 50/s ceiling, 429s, lost and duplicated posts (by marker), read from the fake.
3. memory: this process's peak RSS, and the RSS of a running `paperboy run` (console mode, subprocess)
   on the bundled sample and on bench/search.py's 100,000-paper database when it is cached.

Prints figures only: no pass/fail (targets are read, not asserted).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import logging
import multiprocessing
import os
import random
import resource
import shutil
import signal
import socket
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from match import load_day_range, query_pool  # noqa: E402  (bench/match.py, on sys.path above)

from adapters.discord import render as discord_render  # noqa: E402
from adapters.slack import render as slack_render  # noqa: E402
from bot.digest import select_entries, topic_windows  # noqa: E402
from bot.learning import ChannelModel, FeaturePool  # noqa: E402
from bot.query import match, parse  # noqa: E402
from bot.topic_index import PaperIndex  # noqa: E402
from bot.types import Channel, ChannelRef, Digest, Paper, Platform, Subscription  # noqa: E402

DAY = date(2025, 7, 15)
SEARCH_DB = ROOT / "bench" / ".cache" / "search-100000.db"


# ---- 1. digest build -----------------------------------------------------------------------------


def one_day_of_papers(count: int) -> list[Paper]:
    """200 real papers, all featured on one Daily Papers day."""
    papers = load_day_range("daily_papers_2025-07.json", count)
    return [replace(p, featured_days=(DAY,)) for p in papers]


def make_channels(n: int, topics_per_channel: int, seed: int) -> list[tuple[Channel, list[Subscription]]]:
    rng = random.Random(seed)
    pool = query_pool(rng, 400)
    weights = [1.0 / (rank + 1) for rank in range(len(pool))]  # popular topics shared by many channels
    since = datetime.combine(DAY - timedelta(days=1), dtime(9), UTC)
    created = since - timedelta(days=30)
    out: list[tuple[Channel, list[Subscription]]] = []
    sub_id = 0
    for i in range(n):
        platform = Platform.SLACK if i % 2 == 0 else Platform.DISCORD
        ref = ChannelRef(platform, "T1" if platform is Platform.SLACK else "222", f"{100000 + i}")
        channel = Channel(ref, dtime(9), "UTC", last_digest_at=since, created_at=created)
        subs = []
        for text in rng.choices(pool, weights=weights, k=topics_per_channel):
            sub_id += 1
            subs.append(Subscription(sub_id, ref, text, "U1", created))
        out.append((channel, subs))
    return out


def bench_build(channels: int, topics_per_channel: int, seed: int, sample: int, naive_budget: float) -> None:
    papers = one_day_of_papers(200)
    trending = sorted(papers, key=lambda p: (-p.upvotes, p.id))
    world = make_channels(channels, topics_per_channel, seed)
    subs = sum(len(s) for _, s in world)
    # Freeze what exists now, as `paperboy run` does once started. Here that also keeps the bench's
    # own setup (10,000 channels and 30,000 subscriptions held in memory, which a running bot reads
    # channel by channel instead) from being rescanned by every full collection in the timed part.
    gc.collect()
    gc.freeze()
    print(f"\n== 1. digest build: {channels:,} channels, {subs:,} topic subscriptions, {len(papers)} papers of {DAY}")

    def select(channel: Channel, subscriptions: list[Subscription], index: PaperIndex | None) -> list:  # type: ignore[type-arg]
        windows = topic_windows(channel, subscriptions)
        return select_entries(
            channel,
            trending_pool=trending,
            topic_pool=papers,
            windows=windows,
            posted=set(),
            papers_day=DAY,
            index=index,
        )

    # Shared index: built once for the fan-out, every distinct query evaluated once. Timed first, in a
    # cold process (no stems, parsed queries or renders cached yet), as a fan-out after a restart would be.
    start, cpu = time.perf_counter(), time.process_time()
    index = PaperIndex(papers)
    shared = [select(c, s, index) for c, s in world]
    shared_s, shared_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"select, one shared index:       {shared_s:7.2f} s (CPU {shared_cpu:.2f} s; all {len(world):,} channels, "
        "index build included)"
    )

    start, cpu = time.perf_counter(), time.process_time()
    posts = Counter()
    for i, ((channel, _), entries) in enumerate(zip(world, shared, strict=True)):
        delivery_id = f"{i:032x}"  # each digest carries its own marker, as in a real fan-out
        digest = Digest(channel.ref, DAY + timedelta(days=1), tuple(entries), DAY, delivery_id=delivery_id)
        if channel.ref.platform is Platform.SLACK:
            posts["slack"] += len(slack_render.render(digest))
        else:
            posts["discord"] += len(discord_render.render(digest))
    render_s, render_cpu = time.perf_counter() - start, time.process_time() - cpu
    sizes = Counter(len(e) for e in shared)
    distinct = len({tuple(e) for e in shared})
    print(
        f"render (Slack + Discord):       {render_s:7.2f} s ({posts['slack']:,} Slack posts, "
        f"{posts['discord']:,} Discord posts; entries per digest {min(sizes)}..{max(sizes)}; "
        f"{distinct:,} distinct digests, each rendered once per platform)"
    )
    print(
        f"select + render, shared index:  {shared_s + render_s:7.2f} s (CPU {shared_cpu + render_cpu:.2f} s; "
        "one process, one core; target < 2 s on 2 cores)"
    )

    bench_learned(world, papers, trending, index, shared_s, seed, votes_per_channel=200)

    # Per-channel index: no sharing at all (PaperIndex built inside select_entries for each channel).
    sampled = world[:sample]
    start = time.perf_counter()
    per_channel = [select(c, s, None) for c, s in sampled]
    per_channel_s = (time.perf_counter() - start) * len(world) / len(sampled)
    print(
        f"select, one index per channel:  {per_channel_s:7.2f} s EXTRAPOLATED from {len(sampled):,} channels "
        f"({per_channel_s / len(world) * 1000:.2f} ms per channel)"
    )
    same = all(a == b for a, b in zip(per_channel, shared[: len(sampled)], strict=True))
    print(f"identical entries on the {len(sampled):,} channels selected both ways: {'yes' if same else 'NO'}")
    print(f"select + render, per channel:   {per_channel_s + render_s:7.2f} s")

    # Naive reference: every topic of every channel against every paper with match(), nothing shared.
    queries = [parse(s.query) for _, subs_ in world for s in subs_]
    start = time.perf_counter()
    done = 0
    for q in queries:
        for p in papers:
            match(q, p)
        done += 1
        if time.perf_counter() - start > naive_budget:
            break
    naive_s = (time.perf_counter() - start) * len(queries) / done
    label = "EXTRAPOLATED from" if done < len(queries) else "all"
    print(f"naive match() per topic/paper:  {naive_s:7.2f} s {label} {done:,} of {len(queries):,} topics")
    print(
        f"speed-up vs naive: shared index {naive_s / shared_s:.0f}x, per-channel index {naive_s / per_channel_s:.1f}x "
        "(selection only; target >= 10x)"
    )


def bench_learned(
    world: list[tuple[Channel, list[Subscription]]],
    papers: list[Paper],
    trending: list[Paper],
    index: PaperIndex,
    reference_s: float,
    seed: int,
    votes_per_channel: int,
) -> None:
    """Half the channels with `votes_per_channel` votes each on earlier archive papers (and the day's):
    each builds its learned model (`bot.learning.ChannelModel`, what `DigestBuilder.model` does once its
    votes are read) and selects with it. The reference is the same fan-out without learning, above."""
    rng = random.Random(seed + 1)
    voted_pool = load_day_range("daily_papers_2025-04.json", 2_000) + papers
    by_id = {p.id: p for p in voted_pool}
    # What the store's tally gives a channel: (likes, dislikes) per paper.
    learning = [
        (c, s, {p.id: (1, 0) if rng.random() < 0.6 else (0, 1) for p in rng.sample(voted_pool, votes_per_channel)})
        for c, s in world[::2]
    ]
    plain = world[1::2]
    gc.collect()

    start, cpu = time.perf_counter(), time.process_time()
    pool = FeaturePool(papers)  # what DigestBuilder shares across the fan-out, with the index
    for channel, subscriptions, votes in learning:
        model = ChannelModel.from_tally(votes, by_id, pool)
        select_entries(
            channel,
            trending_pool=trending,
            topic_pool=papers,
            windows=topic_windows(channel, subscriptions),
            posted=set(),
            papers_day=DAY,
            index=index,
            model=model,
        )
    for channel, subscriptions in plain:
        select_entries(
            channel,
            trending_pool=trending,
            topic_pool=papers,
            windows=topic_windows(channel, subscriptions),
            posted=set(),
            papers_day=DAY,
            index=index,
        )
    learned_s, learned_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"select, {len(learning):,} channels learning ({votes_per_channel} votes each) + {len(plain):,} plain: "
        f"{learned_s:.2f} s (CPU {learned_cpu:.2f} s; model build included; target < 2 s) "
        f"vs {reference_s:.2f} s without votes in this run"
    )


# ---- 2. delivery against rate-limiting fakes ----------------------------------------------------------


def serve_fakes(conn: Connection, slack_interval: float, discord_rate: int) -> None:
    """The platforms, in a process of their own: the fakes' CPU is the platform's, not Paperboy's."""
    from tests.fakes.discord import FakeDiscord
    from tests.fakes.slack import FakeSlack

    async def main() -> None:
        slack = await FakeSlack().start()
        slack.post_interval = slack_interval  # 429 + Retry-After beyond one post per second per channel
        discord = FakeDiscord()
        await discord.start()
        discord.global_rate = discord_rate  # global 429 beyond 50 requests in any second
        conn.send({"slack": slack.api_url, "discord_api": discord.api_base, "discord_gateway": discord.gateway_url})
        loop = asyncio.get_running_loop()
        while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
            assert command == "report"
            conn.send(
                {
                    "slack_posts": [(p.channel, p.ts, p.thread_ts, p.text, p.at) for p in slack.posts],
                    "slack_429": slack.rate_limited_posts,
                    "discord_posts": [(p.channel_id, p.via) for p in discord.posted],
                    "discord_429": discord.rate_limited_requests,
                    "discord_requests": len(discord.requests),
                    "discord_nonce_replays": discord.nonce_replays,
                }
            )
        await slack.stop()
        await discord.close()

    asyncio.run(main())


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextlib.asynccontextmanager
async def fresh_postgres(server_url: str) -> AsyncIterator[str]:
    """A database of its own on `server_url`'s server for one run (created, then dropped with FORCE)."""
    from sqlalchemy import make_url, text
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.config import normalise_database_url

    url = make_url(normalise_database_url(server_url))
    name = f"paperboy_bench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def bench_deliver(n: int, concurrency: int, database: str | None = None, replicas: int = 1) -> None:
    if database is None:
        await _deliver(n, concurrency, None, replicas)
        return
    async with fresh_postgres(database) as url:
        await _deliver(n, concurrency, url, replicas)


async def _deliver(n: int, concurrency: int, database_url: str | None, replicas: int) -> None:
    from aiohttp import web
    from pydantic import SecretStr

    import adapters.discord.adapter as discord_adapter
    from adapters.discord.adapter import DiscordAdapter
    from adapters.slack.adapter import SlackAdapter
    from bot.clock import FixedClock
    from bot.config import DeliverySettings, DiscordSettings, Settings, SlackSettings
    from bot.delivery import RetryPolicy
    from bot.ingest import seed_sample_if_empty
    from bot.types import DeliveryKind, DeliveryState
    from paperboy.app import Paperboy
    from tests.fakes.discord import GUILD_ID

    discord_adapter.GUILD_READY_TIMEOUT = 0.05
    noon = datetime(2025, 11, 28, 12, 0, tzinfo=UTC)
    store = "PostgreSQL (a fresh database)" if database_url else "SQLite"
    print(f"\n== 2. delivery: {n:,} Slack + {n:,} Discord channels, run_many concurrency {concurrency}, {store}")
    if replicas > 1:
        print(f"   Discord: {replicas} replicas on the same database, {50 // replicas} requests/s each")
    print("   (the fakes run in a process of their own; CPU figures are this process's: Paperboy's)")
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    fakes = ctx.Process(target=serve_fakes, args=(theirs, 1.0, 50), daemon=True)
    fakes.start()
    loop = asyncio.get_running_loop()
    urls = await loop.run_in_executor(None, ours.recv)

    async def report() -> dict[str, Any]:
        ours.send("report")
        return await loop.run_in_executor(None, ours.recv)  # type: ignore[no-any-return]

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            offline=True,
            slack=SlackSettings(
                bot_token=SecretStr("xoxb-t1-token"), signing_secret=SecretStr("s"), api_url=urls["slack"]
            ),
            discord=DiscordSettings(
                token=SecretStr("fake-token-SECRET"),
                api_base=urls["discord_api"],
                gateway_url=urls["discord_gateway"],
                # Replicas split the bot's 50 requests per second, as README's Operations section says.
                requests_per_second=50 // replicas,
            ),  # type: ignore[arg-type]
            delivery=DeliverySettings(concurrency=concurrency),
            database_url=database_url,
        )
        clock = FixedClock(noon)
        slack = SlackAdapter(settings.slack, web_app=web.Application(), clock=clock)  # 1 post/s/channel
        discord = DiscordAdapter(settings.discord, clock=clock)
        app = Paperboy(
            settings, clock=clock, retry=RetryPolicy(attempts=6, base_delay=0.5, max_delay=10), chat=[slack, discord]
        )
        await app.start()
        await seed_sample_if_empty(app.db, clock)
        # More replicas on the same database: Discord digests race through the same claims and records.
        others: list[Paperboy] = []
        discords = [discord]
        for _ in range(replicas - 1):
            assert database_url is not None, "replicas share a database: give --database"
            other_discord = DiscordAdapter(settings.discord, clock=clock)
            discords.append(other_discord)
            other = Paperboy(
                settings, clock=clock, retry=RetryPolicy(attempts=6, base_delay=0.5, max_delay=10), chat=[other_discord]
            )
            await other.start()
            others.append(other)
        try:
            slack_refs = [ChannelRef(Platform.SLACK, "T1", f"C{i:05d}") for i in range(n)]
            discord_refs = [ChannelRef(Platform.DISCORD, GUILD_ID, str(900_000 + i)) for i in range(n)]
            for ref in slack_refs + discord_refs:
                await app.channels.ensure(ref)
            # Steady state: a channel's kind is known (from a command used in it, or last week's read). A
            # first fan-out after an upgrade reads each channel's kind once more (one request per channel).
            # Every replica knows them: each would have seen the command (or read the kind) itself; a
            # replica left to read them would spend one request per channel of its share of the fan-out.
            for adapter in discords:
                for ref in discord_refs:
                    await adapter.feeds.learn(int(ref.channel_id), 0)
            print("   (Discord channel kinds known, as after a command in each; else one GET per channel a week)")
            day = noon.date().isoformat()

            async def fan_out(refs: list[ChannelRef], every: list[Paperboy]) -> tuple[float, float, int]:
                """Seconds and CPU seconds spent in run_many (the bench's own checks between rounds excluded)."""
                elapsed = cpu = 0.0
                rounds = 0
                pending = refs
                while pending and rounds < 5:  # bounded: what the scheduler's recovery would repeat
                    rounds += 1
                    start, cpu_start = time.perf_counter(), cpu_seconds()
                    runs = [a.runner.run_many(pending) for a in every]
                    await asyncio.wait_for(asyncio.gather(*runs), timeout=600)
                    elapsed += time.perf_counter() - start
                    cpu += cpu_seconds() - cpu_start
                    pending = []
                    for ref in refs:
                        d = await app.db.deliveries.get_by_key(ref, DeliveryKind.DIGEST, day)
                        if d is None or d.state is not DeliveryState.SENT:
                            pending.append(ref)
                return elapsed, cpu, rounds

            slack_s, slack_cpu, slack_rounds = await fan_out(slack_refs, [app])
            seen = await report()
            posts = seen["slack_posts"]
            channel_posts = Counter(channel for channel, _, thread, _, _ in posts if thread is None)
            thread_posts = Counter((channel, thread, text) for channel, _, thread, text, _ in posts if thread)
            times: dict[str, list[float]] = {}
            for channel, _, _, _, at in posts:
                times.setdefault(channel, []).append(at)
            gaps = sorted(b - a for ts_ in map(sorted, times.values()) for a, b in itertools.pairwise(ts_))
            lost = sum(1 for r in slack_refs if channel_posts[r.channel_id] == 0)
            dup = sum(k - 1 for k in (*channel_posts.values(), *thread_posts.values()) if k > 1)
            total = len(posts)
            # Slack's limit is per channel: one post per second (the fake answers 429 beyond it). A digest is a
            # message and a thread reply in one channel, so the reply waits for the channel's next second;
            # 2,000 channels together would allow far more than one process can send, so across channels
            # the bound is Paperboy's CPU, reported as the share of one core the fan-out kept busy.
            per_digest = total / n
            median_gap = gaps[len(gaps) // 2] if gaps else float("nan")
            print(
                f"Slack:   {total:,} posts ({per_digest:.1f} per channel: message + thread) in {slack_s:.1f} s "
                f"= {total / slack_s:.0f} posts/s; {seen['slack_429']} answered 429; rounds {slack_rounds}"
            )
            print(
                f"         per channel: the reply follows its message after {median_gap:.2f} s (median; min "
                f"{gaps[0] if gaps else float('nan'):.2f} s) = {100 / median_gap:.0f}% of the 1 post/s allowed; across "
                f"channels CPU-bound: {100 * slack_cpu / slack_s:.0f}% of one core busy, "
                f"{1000 * slack_cpu / n:.1f} ms CPU per digest"
            )
            print(f"         lost {lost}, duplicated {dup}")

            before = len(seen["discord_posts"])
            requests_before, limited_before = seen["discord_requests"], seen["discord_429"]
            discord_s, discord_cpu, discord_rounds = await fan_out(discord_refs, [app, *others])
            seen = await report()
            landed = seen["discord_posts"][before:]
            chan = Counter(channel for channel, via in landed if via == "channel")
            wanted = {r.channel_id for r in discord_refs}
            lost = sum(1 for c in wanted if chan[c] == 0)
            dup = sum(v - 1 for c, v in chan.items() if c in wanted and v > 1)
            accepted = len(landed)
            # The ceiling counts requests, not posts: a digest is a message, the thread started from it
            # and the reply in that thread (three requests, two posts). Counted by the fake, 429s left out.
            limited = seen["discord_429"] - limited_before
            requests = seen["discord_requests"] - requests_before - limited
            print(
                f"Discord: {requests:,} requests accepted ({requests / n:.1f} per digest: message, thread, reply) "
                f"in {discord_s:.1f} s = {requests / discord_s:.1f} req/s of the 50/s global ceiling "
                f"({100 * requests / discord_s / 50:.0f}%); {limited} answered 429; "
                f"{seen['discord_nonce_replays']} nonce replays; rounds {discord_rounds}"
            )
            print(
                f"         {accepted:,} posts = {accepted / discord_s:.1f} posts/s, {n / discord_s:.1f} digests/s; "
                f"CPU {1000 * discord_cpu / n:.1f} ms per digest"
            )
            print(f"         lost {lost}, duplicated {dup}")
        finally:
            for other in others:
                await other.stop()
            await app.stop()
            ours.send("stop")
            fakes.join(timeout=10)
            if fakes.is_alive():
                fakes.kill()


# ---- 2b. forum fan-out -------------------------------------------------------------------------------------


def serve_forums(conn: Connection, forum_ids: list[str], rate: int) -> None:
    """FakeDiscord with `forum_ids` as forum channels (one tag, "trending"), in a process of its own."""
    from tests.fakes.discord import FakeDiscord

    async def main() -> None:
        discord = FakeDiscord()
        await discord.start()
        discord.global_rate = rate
        for forum_id in forum_ids:
            discord.add_forum(forum_id, ["trending"])
        conn.send({"api": discord.api_base, "gateway": discord.gateway_url})
        loop = asyncio.get_running_loop()
        while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
            assert command == "report"
            conn.send(
                {
                    "threads": [(t["parent_id"], t["id"]) for t in discord.threads if t.get("forum")],
                    "starters": {
                        t["id"]: discord.messages[t["id"]][0]["embeds"][0]["footer"]["text"]
                        for t in discord.threads
                        if t.get("forum")
                    },
                    "requests": len(discord.requests),
                    "global_429": discord.rate_limited_requests,
                    "bucket_429": discord.forum_429s,
                }
            )
        await discord.close()

    asyncio.run(main())


async def bench_forums(channels: int, papers: int, concurrency: int) -> None:
    """A digest of `papers` papers to `channels` forum channels: a post per paper, through the Deliverer."""
    from pydantic import SecretStr

    import adapters.discord.adapter as discord_adapter
    from adapters.discord.adapter import DiscordAdapter
    from bot.clock import FixedClock
    from bot.config import DiscordSettings, Settings
    from bot.delivery import Deliverer, Outcome, RetryPolicy
    from bot.ingest import seed_sample_if_empty
    from bot.types import DeliveryKind, Digest, DigestEntry, DigestReason
    from paperboy.app import Paperboy
    from tests.fakes.discord import GUILD_ID

    discord_adapter.GUILD_READY_TIMEOUT = 0.05
    noon = datetime(2025, 11, 28, 12, 0, tzinfo=UTC)
    print(f"\n== 2b. forums: a {papers}-paper digest to {channels} Discord forum channels (a post per paper)")
    ids = [str(700_000 + i) for i in range(channels)]
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    fake = ctx.Process(target=serve_forums, args=(theirs, ids, 50), daemon=True)
    fake.start()
    loop = asyncio.get_running_loop()
    urls = await loop.run_in_executor(None, ours.recv)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            offline=True,
            discord=DiscordSettings(
                token=SecretStr("fake-token-SECRET"), api_base=urls["api"], gateway_url=urls["gateway"]
            ),  # type: ignore[arg-type]
        )
        clock = FixedClock(noon)
        app = Paperboy(settings, clock=clock, chat=[])
        await app.start()
        await seed_sample_if_empty(app.db, clock)
        adapter = DiscordAdapter(settings.discord, clock=clock, kv=app.db.kv)
        await adapter.start(app.engine, ready_timeout=30)
        try:
            day_papers = (await app.db.papers.recent(papers))[:papers]
            refs = [ChannelRef(Platform.DISCORD, GUILD_ID, i) for i in ids]
            for ref in refs:
                await app.channels.ensure(ref)
            deliverer = Deliverer(
                app.db.deliveries,
                app.db.channels,
                {Platform.DISCORD: adapter},
                clock,
                replica_id="bench",
                policy=RetryPolicy(attempts=6, base_delay=0.5, max_delay=10),
            )
            gate = asyncio.Semaphore(concurrency)

            async def one(ref: ChannelRef) -> Outcome:
                entries = tuple(DigestEntry(p, DigestReason.TRENDING) for p in day_papers)
                async with gate:
                    result = await deliverer.deliver(
                        ref, DeliveryKind.DIGEST, noon.date().isoformat(), Digest(ref, noon.date(), entries)
                    )
                return result.outcome

            start, cpu_start = time.perf_counter(), cpu_seconds()
            outcomes = Counter(await asyncio.wait_for(asyncio.gather(*(one(r) for r in refs)), timeout=1800))
            elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
            ours.send("report")
            seen = await loop.run_in_executor(None, ours.recv)
            per_channel = Counter(parent for parent, _ in seen["threads"])
            markers = Counter((parent, seen["starters"][tid].rsplit("ref ", 1)[-1]) for parent, tid in seen["threads"])
            expected = channels * papers
            landed = len(seen["threads"])
            lost = sum(max(0, papers - per_channel[i]) for i in ids)
            dup = sum(k - 1 for k in markers.values() if k > 1)
            # Every REST call the fake answered other than with a 429 (login, channel kinds, posts).
            accepted = seen["requests"] - seen["global_429"] - seen["bucket_429"]
            print(
                f"Forums:  {landed:,} posts ({expected:,} expected) in {elapsed:.1f} s = "
                f"{landed / elapsed:.1f} posts/s; "
                f"requests accepted {accepted / elapsed:.1f}/s of the 50/s global ceiling "
                f"({100 * accepted / elapsed / 50:.0f}%)"
            )
            print(
                f"         {seen['global_429']} global 429s, {seen['bucket_429']} forum-bucket 429s; "
                f"outcomes {dict(outcomes)}; CPU {1000 * cpu / landed:.1f} ms per post"
            )
            print(f"         lost {lost}, duplicated {dup}")
        finally:
            await adapter.stop()
            await app.stop()
            ours.send("stop")
            fake.join(timeout=10)
            if fake.is_alive():
                fake.kill()


# ---- 3. memory -------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def run_rss(data_dir: Path, label: str, settle: float) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "SLACK_", "DISCORD_", "DATABASE_"))}
    env.update(PAPERBOY_DATA_DIR=str(data_dir), PAPERBOY_OFFLINE="true", PAPERBOY_HTTP__PORT=str(port))
    log = (data_dir / "run.log").open("wb")
    proc = __import__("subprocess").Popen(
        [sys.executable, "-m", "paperboy", "run"], env=env, cwd=data_dir, stdin=-3, stdout=log, stderr=log
    )
    try:
        started = time.perf_counter()
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None:
                    print(f"{label}: paperboy run exited early (see {data_dir / 'run.log'})")
                    return
                time.sleep(0.1)
        up_s = time.perf_counter() - started
        time.sleep(settle)
        rss, hwm = _status_kb(proc.pid, "VmRSS"), _status_kb(proc.pid, "VmHWM")
        print(f"{label}: idle RSS {rss / 1024:.0f} MB, peak {hwm / 1024:.0f} MB (up in {up_s:.1f} s; target < 150 MB)")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except Exception:
            proc.kill()
        log.close()


def bench_memory(settle: float) -> None:
    print("\n== 3. memory")
    with tempfile.TemporaryDirectory() as tmp:
        sample_dir = Path(tmp) / "sample"
        sample_dir.mkdir()
        run_rss(sample_dir, "paperboy run, bundled sample  ", settle)
        if SEARCH_DB.exists():
            big = Path(tmp) / "big"
            big.mkdir()
            shutil.copy(SEARCH_DB, big / "paperboy.db")
            run_rss(big, "paperboy run, 100,000 papers  ", settle)
        else:
            print(f"paperboy run, 100,000 papers: skipped ({SEARCH_DB} not built; run bench/search.py first)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"this bench process: peak RSS {peak / 1024:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="build,deliver,forums,memory")
    ap.add_argument("--channels", type=int, default=10_000)
    ap.add_argument("--topics-per-channel", type=int, default=3)
    ap.add_argument("--sample", type=int, default=300, help="channels timed with one index each (extrapolated)")
    ap.add_argument("--naive-budget", type=float, default=5.0, help="seconds before the naive side extrapolates")
    ap.add_argument("--deliver-channels", type=int, default=2_000)
    ap.add_argument("--concurrency", type=int, default=128, help="run_many concurrency (the setting's default)")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds idle before reading the RSS")
    ap.add_argument("--forum-channels", type=int, default=100)
    ap.add_argument("--forum-papers", type=int, default=20, help="papers per forum digest (a post each)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--database", help="a PostgreSQL server URL for the delivery part (default: SQLite)")
    ap.add_argument("--replicas", type=int, default=1, help="Discord delivery replicas sharing --database")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    parts = set(args.parts.split(","))
    started = time.perf_counter()
    if "build" in parts:
        bench_build(args.channels, args.topics_per_channel, args.seed, args.sample, args.naive_budget)
    if "deliver" in parts:
        asyncio.run(bench_deliver(args.deliver_channels, args.concurrency, args.database, args.replicas))
    if "forums" in parts:
        asyncio.run(bench_forums(args.forum_channels, args.forum_papers, args.concurrency))
    if "memory" in parts:
        bench_memory(args.settle)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

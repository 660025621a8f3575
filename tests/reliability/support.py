"""Shared pieces of the reliability tests: counting what the fakes show users, bounded waits."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.discord import render as discord_render
from bot.clock import SystemClock
from bot.config import Settings
from bot.ingest import seed_sample_if_empty
from bot.types import ChannelRef, DeliveryKind, DeliveryState, Platform
from storage import Database
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack


def slack_markers(fake: FakeSlack) -> Counter[tuple[str, str]]:
    """(channel, delivery id) -> how many channel-level messages carry that delivery's metadata marker."""
    seen: Counter[tuple[str, str]] = Counter()
    for post in fake.posts:
        payload = (post.metadata or {}).get("event_payload") or {}
        if post.thread_ts is None and payload.get("delivery_id"):
            seen[(post.channel, str(payload["delivery_id"]))] += 1
    return seen


def slack_parts(fake: FakeSlack) -> dict[tuple[str, str], Counter[int]]:
    """(channel, delivery id) -> how many times each part was posted; replies counted only under their part 0."""
    tops = {p.ts: p for p in fake.posts if p.thread_ts is None}
    seen: dict[tuple[str, str], Counter[int]] = {}
    for post in fake.posts:
        payload = (post.metadata or {}).get("event_payload") or {}
        delivery = payload.get("delivery_id")
        if not delivery:
            continue
        part = int(payload.get("part", 0))
        if post.thread_ts is not None:
            parent = tops.get(post.thread_ts)
            parent_payload = ((parent.metadata or {}).get("event_payload") or {}) if parent else {}
            if parent_payload.get("delivery_id") != delivery:
                part = -1  # a reply under the wrong parent
        seen.setdefault((post.channel, str(delivery)), Counter())[part] += 1
    return seen


def slack_expected_parts(papers: int) -> int:
    """How many posts Slack's renderer makes of a digest with `papers` papers (message + thread replies)."""
    from adapters.slack.render import DIGEST_TOP_PAPERS, PAPERS_PER_THREAD_REPLY

    rest = max(0, papers - DIGEST_TOP_PAPERS)
    return 1 + -(-rest // PAPERS_PER_THREAD_REPLY)


async def slack_whole_digests(url: str, fake: FakeSlack, refs: list[ChannelRef], day: str) -> list[str]:
    """Every channel's digest: recorded SENT, each of its parts posted exactly once, under the right parent."""
    parts = slack_parts(fake)
    problems: list[str] = []
    db = await Database.connect(url)
    try:
        for ref in refs:
            d = await db.deliveries.get_by_key(ref, DeliveryKind.DIGEST, day)
            if d is None or d.state is not DeliveryState.SENT:
                problems.append(f"{ref.channel_id}: not recorded as sent ({d.state if d else 'no claim'})")
                continue
            want = slack_expected_parts(len(d.paper_ids))
            got = parts.get((ref.channel_id, d.id), Counter())
            if got != Counter(range(want)):
                problems.append(f"{ref.channel_id}: parts {dict(got)}, wanted each of 0..{want - 1} once")
            recorded = await db.deliveries.parts(d.id)
            if sorted(recorded) != list(range(want)):
                problems.append(f"{ref.channel_id}: recorded parts {sorted(recorded)}")
        others = {c for c, _ in parts} - {r.channel_id for r in refs}
        problems += [f"{c}: posted, though no digest was due there" for c in sorted(others)]
    finally:
        await db.close()
    return problems


def slack_last_post_at(fake: FakeSlack) -> float:
    return max((p.at for p in fake.posts), default=0.0)


def slack_channel_posts(fake: FakeSlack) -> Counter[str]:
    """channel -> how many channel-level (not thread) messages it received."""
    return Counter(p.channel for p in fake.posts if p.thread_ts is None)


def discord_channel_posts(fake: FakeDiscord, channels: Iterable[str]) -> Counter[str]:
    wanted = set(channels)
    return Counter(p.channel_id for p in fake.posted if p.via == "channel" and p.channel_id in wanted)


def discord_marker_count(fake: FakeDiscord, channel: str, delivery_id: str) -> int:
    marker = discord_render.marker_text(delivery_id)
    count = 0
    for p in fake.posted:
        if p.via != "channel" or p.channel_id != channel:
            continue
        carried: list[Any] = [p.content, *[(e.get("footer") or {}).get("text", "") for e in p.embeds]]
        if any(marker in str(text) for text in carried):
            count += 1
    return count


async def wait_until(predicate: Callable[[], bool], within: float, *, what: str, step: float = 0.05) -> None:
    """Poll `predicate` at most `within` seconds (bounded in count and time)."""
    for _ in range(int(within / step) + 1):
        if predicate():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- `paperboy run` as a real process ---------------------------------------------------------------

_INHERITED_PREFIXES = ("PAPERBOY_", "SLACK_", "DISCORD_", "DATABASE_URL", "HF_", "PORT")


def run_env(**settings: str) -> dict[str, str]:
    """The environment of a `paperboy run` child: this one's, minus any Paperboy/Slack/Discord settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_PREFIXES)}
    env.update(settings)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Bot:
    """One `paperboy run` process; its output goes to `log` (read it when a test fails)."""

    process: asyncio.subprocess.Process
    log: Path

    @classmethod
    async def start(cls, env: dict[str, str], cwd: Path, log: Path, *args: str) -> Bot:
        """`paperboy run`, or `paperboy <args>` (a job run by hand: `"jobs", "run", "followups"`)."""
        with log.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "paperboy",
                *(args or ("run",)),
                env=env,
                cwd=cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        return cls(process, log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def wait(self, within: float) -> int:
        try:
            return await asyncio.wait_for(self.process.wait(), timeout=within)
        except TimeoutError:
            self.kill()
            await asyncio.wait_for(self.process.wait(), timeout=10)
            raise AssertionError(f"paperboy run (pid {self.pid}) did not exit within {within:.0f}s") from None

    async def stop(self, within: float = 20.0) -> int:
        """SIGTERM, then wait (bounded) for a clean exit."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.wait(within)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


async def wait_all_sent(url: str, refs: list[ChannelRef], day: str, within: float) -> None:
    """Poll the database until every channel's digest for `day` is recorded as sent (bounded)."""
    db = await Database.connect(url)
    unfinished = len(refs)
    try:
        for _ in range(int(within / 0.5) + 1):
            unfinished = 0
            for ref in refs:
                d = await db.deliveries.get_by_key(ref, DeliveryKind.DIGEST, day)
                unfinished += d is None or d.state is not DeliveryState.SENT
            if not unfinished:
                return
            await asyncio.sleep(0.5)
    finally:
        await db.close()
    raise AssertionError(f"{unfinished} deliveries still unfinished after {within:.0f}s")


async def prepare_due_channels(settings: Settings, count: int) -> tuple[list[ChannelRef], str]:
    """Migrated, seeded with the sample, `count` Slack channels whose digest slot passed three minutes ago
    (created an hour earlier, so the scheduler's catch-up at start fans out to all); the digest key."""
    now = datetime.now(UTC)
    slot = now - timedelta(minutes=3)
    db = await Database.connect(settings.resolved_database_url)
    try:
        await db.upgrade()
        await seed_sample_if_empty(db, SystemClock())
        due = slot.time().replace(second=0, microsecond=0)
        refs = [ChannelRef(Platform.SLACK, "T1", f"C{i:04d}") for i in range(count)]
        for ref in refs:
            await db.channels.ensure(ref, digest_time=due, timezone="UTC", now=now - timedelta(hours=1))
    finally:
        await db.close()
    return refs, slot.date().isoformat()

"""Discord channel feeds the Discord way: forum posts per paper, announcement channels' crossposts.

The kind of a target channel decides how a delivery goes out (`GET /channels/{id}`, remembered for a
while: a moderator may convert a text channel to an announcement channel):

- text (0): the channel message and its thread, as `DiscordAdapter.send` always did;
- announcement (5): the same, and each channel-level part is then published (crossposted) so that
  servers following the channel get it. Discord allows 10 crossposts per hour per channel; one it
  holds back (a 429 longer than discord.py waits) is remembered in the key-value store and published
  when the limit allows, never by posting the message again. `status` says crossposts are held back;
- forum (15) and media (16): one post per paper (`forum.py`), tagged by name among the forum's tags.
  With Manage Channels Paperboy adds the tags it lacks (within Discord's 20, never removing one); without
  it `status` lists the tags a moderator could add. Recovery lists the forum's posts (active and
  archived) made by Paperboy since the claim and reads each one's first message for its marker.

discord.py's public API does the posting (`ForumChannel.create_thread`, `ForumChannel.edit`,
`PartialMessage.publish`); the listings are read raw, as `find_parts` reads channel history.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

import discord

from bot.channel_notes import ChannelNotes
from bot.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.ports import KeyValueStore, PartRecorder
from bot.types import ChannelRef, Digest, Message

from . import forum as f
from . import render as r
from .rest import as_delivery_errors, message_kwargs

logger = logging.getLogger(__name__)

TEXT = 0
ANNOUNCEMENT = 5
FORUM_KINDS = frozenset({15, 16})
KIND_TTL = 600.0
"""Seconds this process trusts a channel's kind before reading it from the store again."""
KIND_STORED_TTL = 7 * 86400.0
"""Seconds a kind learned (from `GET /channels/{id}` or a command used in the channel) is trusted: a
daily fan-out must not spend one request per channel on it. A converted channel is noticed at the next
command used in it, at a post Discord refuses for its kind, or within this time."""
REQUEST_TIMEOUT = 60.0
KIND_WRITE_TIMEOUT = 5.0
ARCHIVED_PAGES = 5
"""Pages of 100 archived posts read back when recovering (posts are archived after days, not minutes)."""
POST_ARCHIVE_MINUTES: Literal[10080] = 10080
"""A forum post stays open a week: follow-ups land in it while the paper is fresh."""
CROSSPOST_RETRIES = 3
ALREADY_CROSSPOSTED = 40033
NOTE_TAGS = "discord:forum-tags"
NOTE_CROSSPOSTS = "discord:crossposts"
NOTE_THREADS = "discord:threads"

Poster = Callable[[int, r.DiscordPost, str | None], Awaitable[str]]
"""Posts a message in a channel or thread (id, post, nonce) and returns its id: the adapter's `_post`."""


@dataclass(frozen=True, slots=True)
class HeldCrosspost:
    message_id: str
    not_before: float
    """Wall-clock seconds (the adapter's clock) before which Discord will refuse it again."""


class Feeds:
    def __init__(
        self,
        client: Callable[[], discord.Client],
        acquire: Callable[[], Awaitable[None]],
        kv: KeyValueStore | None,
        now: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._acquire = acquire
        self._kv = kv
        self._notes = ChannelNotes(kv) if kv is not None else None
        self._now = now
        self._kinds: dict[int, tuple[float, int]] = {}
        self._held_memory: dict[str, list[HeldCrosspost]] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._writes: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------------------- channel kinds

    async def kind(self, channel: ChannelRef) -> int:
        channel_id = int(channel.channel_id)
        loop = asyncio.get_running_loop()
        cached = self._kinds.get(channel_id)
        if cached is not None and loop.time() - cached[0] < KIND_TTL:
            return cached[1]
        stored = await self._stored_kind(channel_id)
        if stored is not None:
            self._kinds[channel_id] = (loop.time(), stored)
            return stored
        async with as_delivery_errors(channel):
            await self._acquire()
            data = await asyncio.wait_for(self._client().http.get_channel(channel_id), timeout=REQUEST_TIMEOUT)
        kind = int(data.get("type", TEXT))
        await self.learn(channel_id, kind)
        return kind

    async def learn(self, channel_id: int, kind: int) -> None:
        """Remember a channel's kind (read from Discord, or seen on a command used in the channel)."""
        self._kinds[channel_id] = (asyncio.get_running_loop().time(), kind)
        if self._kv is not None:
            await self._kv.set(_kind_key(channel_id), json.dumps([kind, self._now().timestamp()]))

    def seen(self, channel_id: int, kind: int) -> None:
        """A command used in the channel showed its kind: remember it without holding up the command.

        The store is written in the background and may fail (the database down): it is bookkeeping, and
        the kind is read from Discord at the next post when it was not kept.
        """
        self._kinds[channel_id] = (asyncio.get_running_loop().time(), kind)
        if self._kv is None:
            return

        async def keep() -> None:
            try:
                await asyncio.wait_for(self.learn(channel_id, kind), timeout=KIND_WRITE_TIMEOUT)
            except Exception as exc:  # bookkeeping only: the next post asks Discord
                logger.info("discord channel %s: kind %d not kept (%s)", channel_id, kind, type(exc).__name__)

        task = asyncio.create_task(keep(), name=f"discord-kind-{channel_id}")
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _stored_kind(self, channel_id: int) -> int | None:
        raw = await self._kv.get(_kind_key(channel_id)) if self._kv is not None else None
        if not raw:
            return None
        try:
            kind, at = json.loads(raw)
        except (ValueError, TypeError):
            return None
        if self._now().timestamp() - float(at) > KIND_STORED_TTL:
            return None
        return int(kind)

    async def forget(self, channel: ChannelRef) -> None:
        """The kind is stale (Discord refused a post for it): ask Discord at the next post."""
        channel_id = int(channel.channel_id)
        self._kinds.pop(channel_id, None)
        if self._kv is not None:
            await self._kv.set(_kind_key(channel_id), "")

    async def note(self, channel: ChannelRef, topic: str, text: str | None) -> None:
        if self._notes is not None:
            await self._notes.set(channel, topic, text)

    # ------------------------------------------------------------------------------- forums

    async def _forum(self, channel: ChannelRef) -> discord.ForumChannel:
        async with as_delivery_errors(channel):
            await self._acquire()
            fetched = await asyncio.wait_for(
                self._client().fetch_channel(int(channel.channel_id)), timeout=REQUEST_TIMEOUT
            )
        if not isinstance(fetched, discord.ForumChannel):
            await self.forget(channel)
            raise RetryableDeliveryError("the channel is no longer a forum", retry_after=0.0)
        return fetched

    async def send_forum(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        delivery_id: str | None,
        done: dict[int, str],
        on_part: PartRecorder | None,
        post: Poster,
        nonce: Callable[[int], str | None],
    ) -> None:
        """Post each forum post of `message` not yet `done` (in order), then the parts inside the first."""
        posts, inside = f.forum_posts(message, marker=delivery_id)
        forum = await self._forum(channel)
        wanted = [tag for position, p in enumerate(posts) if position not in done for tag in p.tags]
        forum = await self._ensure_tags(channel, forum, wanted)
        usable = {t.name: t.id for t in forum.available_tags if not t.moderated}
        papers = message.entries if isinstance(message, Digest) and message.entries else ()
        for position, item in enumerate(posts):
            if position in done:
                if papers:  # found by its marker after a crash: follow-ups still go into it
                    await self.remember_post(channel, papers[position].paper.id, done[position])
                continue
            tags = [tag for tag_id in f.applied_tags(item.tags, usable) if (tag := forum.get_tag(tag_id)) is not None]
            thread_id = await self._create_post(channel, forum, item, tags)
            done[position] = thread_id
            if on_part is not None:
                await on_part(position, thread_id)
            if papers:
                await self.remember_post(channel, papers[position].paper.id, thread_id)
        for position, part in enumerate(inside, start=1):
            if position in done:
                continue
            async with as_delivery_errors(channel):
                message_id = await post(int(done[0]), part, nonce(position))
            done[position] = message_id
            if on_part is not None:
                await on_part(position, message_id)

    async def _create_post(
        self, channel: ChannelRef, forum: discord.ForumChannel, item: f.ForumPost, tags: list[discord.ForumTag]
    ) -> str:
        kwargs: Any = message_kwargs(item.first)  # content, embeds, view: the overload of a plain message
        async with as_delivery_errors(channel):
            await self._acquire()
            created = await asyncio.wait_for(
                forum.create_thread(
                    name=item.name,
                    applied_tags=tags,
                    auto_archive_duration=POST_ARCHIVE_MINUTES,
                    allowed_mentions=discord.AllowedMentions.none(),
                    **kwargs,
                ),
                timeout=REQUEST_TIMEOUT,
            )
        return str(created.thread.id)

    async def _ensure_tags(
        self, channel: ChannelRef, forum: discord.ForumChannel, wanted: list[str]
    ) -> discord.ForumChannel:
        """Add the wanted tags the forum lacks, within Discord's 20, when Paperboy may; say what is missing."""
        have = {t.name: t.id for t in forum.available_tags}
        missing = f.tags_to_create(wanted, have)
        if not missing:
            return forum
        room = max(0, f.TAGS_PER_FORUM - len(forum.available_tags))
        adding, over = missing[:room], missing[room:]
        if adding:
            tags = [*forum.available_tags, *(discord.ForumTag(name=name) for name in adding)]
            try:
                await self._acquire()
                edited = await asyncio.wait_for(forum.edit(available_tags=tags), timeout=REQUEST_TIMEOUT)
            except discord.Forbidden:
                names = ", ".join(f"`{n}`" for n in missing)
                await self.note(
                    channel,
                    NOTE_TAGS,
                    f"Forum tags a moderator could add so that posts are tagged: {names}. "
                    "(With Manage Channels on this forum, Paperboy adds them itself.)",
                )
                return forum
            except (discord.HTTPException, TimeoutError) as exc:
                logger.warning("discord %s: could not add forum tags (%s); posting untagged", channel.key, exc)
                return forum
            logger.info("discord %s: added forum tags %s", channel.key, adding)
            if isinstance(edited, discord.ForumChannel):
                forum = edited
        if over:
            names = ", ".join(f"`{n}`" for n in over)
            await self.note(
                channel,
                NOTE_TAGS,
                f"This forum has Discord's {f.TAGS_PER_FORUM} tags; not tagged "
                f"(a moderator could swap one in): {names}.",
            )
        else:
            await self.note(channel, NOTE_TAGS, None)
        return forum

    async def remember_post(self, channel: ChannelRef, paper_id: str, thread_id: str) -> None:
        """Which forum post carries a paper, so a follow-up goes into the paper's own post."""
        if self._kv is not None:
            await self._kv.set(_post_key(channel, paper_id), thread_id)

    async def post_of(self, channel: ChannelRef, paper_id: str) -> str | None:
        return await self._kv.get(_post_key(channel, paper_id)) if self._kv is not None else None

    async def find_forum_parts(self, channel: ChannelRef, delivery_id: str, since: datetime) -> dict[int, str]:
        """The delivery's posts in the forum (by the marker on each post's first message) and the parts
        inside its first post."""
        client = self._client()
        me = str(client.user.id) if client.user else None
        after = discord.utils.time_snowflake(since, high=False)
        channel_id = str(channel.channel_id)
        candidates: dict[str, dict[str, Any]] = {}
        async with as_delivery_errors(channel):
            await self._acquire()
            active = await asyncio.wait_for(
                client.http.get_active_threads(int(channel.workspace_id)), timeout=REQUEST_TIMEOUT
            )
            for thread in cast(list[dict[str, Any]], active.get("threads", [])):
                candidates[str(thread["id"])] = thread
            before: str | None = None
            for _ in range(ARCHIVED_PAGES):
                await self._acquire()
                page = await asyncio.wait_for(
                    client.http.get_public_archived_threads(int(channel_id), before, 100), timeout=REQUEST_TIMEOUT
                )
                threads = cast(list[dict[str, Any]], page.get("threads", []))
                for thread in threads:
                    candidates[str(thread["id"])] = thread
                if not page.get("has_more") or not threads:
                    break
                before = str(threads[-1].get("thread_metadata", {}).get("archive_timestamp"))
        found: dict[int, str] = {}
        ours = [
            t
            for t in candidates.values()
            if str(t.get("parent_id")) == channel_id
            and (me is None or str(t.get("owner_id")) == me)
            and int(t["id"]) > after
        ]
        for thread in sorted(ours, key=lambda t: int(t["id"])):
            async with as_delivery_errors(channel):
                await self._acquire()
                try:
                    starter = await asyncio.wait_for(
                        client.http.get_message(int(thread["id"]), int(thread["id"])), timeout=REQUEST_TIMEOUT
                    )
                except discord.NotFound:
                    continue  # the first message was deleted: not a post Paperboy can read back
            for position in r.marker_positions(cast(Mapping[str, Any], starter), delivery_id):
                found.setdefault(position, str(thread["id"]))
        return found

    # ------------------------------------------------------------------------------- announcements

    async def crosspost(self, channel: ChannelRef, message_id: str) -> None:
        """Publish a message Paperboy posted in an announcement channel; held back when Discord says wait.

        A failure here never fails the delivery: the message is posted; only its reach to followers waits.
        """
        held = await self._held(channel)
        if held:
            # Older ones first: Discord's limit is per channel, and order is what followers expect.
            await self._remember_held(channel, [*held, HeldCrosspost(message_id, held[-1].not_before)])
            await self.flush_crossposts(channel)
            return
        await self._publish_or_hold(channel, message_id, [])

    async def flush_crossposts(self, channel: ChannelRef) -> int:
        """Publish the held-back crossposts whose wait is over, oldest first; how many were published."""
        held = await self._held(channel)
        published = 0
        now = self._now().timestamp()
        while held and held[0].not_before <= now:
            first, rest = held[0], held[1:]
            if not await self._publish_or_hold(channel, first.message_id, rest):
                return published
            held = rest
            published += 1
        return published

    async def _publish_or_hold(self, channel: ChannelRef, message_id: str, rest: list[HeldCrosspost]) -> bool:
        """Publish `message_id`; on a long rate limit keep it (ahead of `rest`) for later. True if published."""
        client = self._client()
        message = client.get_partial_messageable(int(channel.channel_id)).get_partial_message(int(message_id))
        for _ in range(CROSSPOST_RETRIES):
            try:
                await self._acquire()
                await asyncio.wait_for(message.publish(), timeout=REQUEST_TIMEOUT)
            except discord.RateLimited as exc:
                # Longer than discord.py waits by itself (10 per hour per channel): hold it, never re-post.
                not_before = self._now().timestamp() + exc.retry_after
                await self._remember_held(channel, [HeldCrosspost(message_id, not_before), *rest])
                self._retry_later(channel, exc.retry_after)
                return False
            except discord.HTTPException as exc:
                if exc.code == ALREADY_CROSSPOSTED:
                    break
                if exc.status >= 500:
                    continue
                logger.warning("discord %s: could not crosspost %s (%s)", channel.key, message_id, exc)
                if isinstance(exc, discord.Forbidden):
                    await self.note(
                        channel,
                        NOTE_CROSSPOSTS,
                        "Discord refused to publish Paperboy's posts to the servers following this channel "
                        f"(Forbidden, {exc.code}): Paperboy needs Send Messages here.",
                    )
                break
            except (TimeoutError, OSError) as exc:
                logger.warning("discord %s: crosspost %s timed out (%s); retrying", channel.key, message_id, exc)
                continue
            else:
                break
        else:
            await self._remember_held(channel, [HeldCrosspost(message_id, self._now().timestamp() + 60), *rest])
            return False
        await self._remember_held(channel, rest)
        return True

    def _retry_later(self, channel: ChannelRef, after: float) -> None:
        """Publish the held crossposts once Discord's wait is over, while this process runs (the next
        delivery to the channel publishes them too, after a restart)."""
        timer = self._timers.get(channel.key)
        if timer is not None and not timer.done():
            return

        async def wait_then_flush() -> None:
            await asyncio.sleep(min(max(after, 1.0), 3600.0) + 1.0)
            try:
                await self.flush_crossposts(channel)
            except Exception:
                logger.exception("discord %s: publishing held crossposts failed", channel.key)

        self._timers[channel.key] = asyncio.create_task(wait_then_flush(), name=f"crossposts-{channel.key}")

    async def stop(self) -> None:
        timers, self._timers = [*self._timers.values(), *self._writes], {}
        for timer in timers:
            timer.cancel()
        for timer in timers:
            with contextlib.suppress(asyncio.CancelledError):
                await timer

    async def _held(self, channel: ChannelRef) -> list[HeldCrosspost]:
        if self._kv is None:
            return list(self._held_memory.get(channel.key, []))
        raw = await self._kv.get(_held_key(channel))
        if not raw:
            return []
        try:
            return [HeldCrosspost(str(m), float(t)) for m, t in json.loads(raw)]
        except (ValueError, TypeError):
            logger.warning("discord %s: held crossposts unreadable; dropping them", channel.key)
            return []

    async def _remember_held(self, channel: ChannelRef, held: list[HeldCrosspost]) -> None:
        if self._kv is None:
            self._held_memory[channel.key] = held
        else:
            await self._kv.set(_held_key(channel), json.dumps([[h.message_id, h.not_before] for h in held]))
        if held:
            until = datetime.fromtimestamp(max(h.not_before for h in held), tz=UTC)
            await self.note(
                channel,
                NOTE_CROSSPOSTS,
                f"Crossposts held back: {len(held)} post(s) wait for Discord's limit of 10 publishes per hour "
                f"in an announcement channel; published from {until:%H:%M} UTC, never posted twice.",
            )
        else:
            await self.note(channel, NOTE_CROSSPOSTS, None)

    async def held_crossposts(self, channel: ChannelRef) -> list[str]:
        return [h.message_id for h in await self._held(channel)]


def _kind_key(channel_id: int) -> str:
    return f"discord:kind:{channel_id}"


def _post_key(channel: ChannelRef, paper_id: str) -> str:
    return f"discord:forum-post:{channel.channel_id}:{paper_id}"


def _held_key(channel: ChannelRef) -> str:
    return f"discord:crossposts-held:{channel.channel_id}"


def permission_problem(exc: PermanentDeliveryError, kind: int) -> str:
    """The permanent failure's reason, saying which permission a channel of this kind needs."""
    if "50013" not in exc.reason:
        return exc.reason
    if kind in FORUM_KINDS:
        return (
            "Discord says Paperboy lacks permission to post in this forum (Missing Permissions, 50013): "
            "it needs Send Messages (Create Posts) and Embed Links there"
        )
    return exc.reason

"""The Discord adapter: discord.py gateway for `/papers` interactions, REST for scheduled posts.

Interactions: one application-command group `/papers` with a subcommand per CommandSpec, built at
start from the core's registry. discord.py's command tree only registers and syncs it; every interaction
(commands, autocomplete, buttons) arrives through `on_interaction` and is read from its raw payload by
translate.py, so one that does not fit the synced commands still gets Paperboy's answer. Each is taken
once across replicas (its id in the inbound log), deferred at once (Discord wants an answer within
3 seconds), then the core runs and its replies go out as follow-ups; one Paperboy cannot read is answered
with a private error at once.

Permissions: Discord's `default_member_permissions` applies to a whole top-level command, so it
cannot differ between subcommands of one group. The group therefore sets none, and each invocation
carries a `Permission` (Manage Channels in that channel) that the core checks for the subcommands
that change channel state.

Posting: `send` talks REST directly (`POST /channels/{id}/messages`), so a digest fan-out does not
need the channel in the gateway cache. discord.py handles per-route buckets and 429s; a sliding
window on top keeps the bot under Discord's global 50 requests per second. How a delivery goes out
depends on the channel's kind (`feeds.py`): a forum or media channel takes a post per paper, an
announcement channel's messages are also published to the servers following it. A person's direct
messages (`ChannelRef.dm`, where their follows go) are the bot's DM channel with them (Create DM),
posted in as a plain text channel.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import inspect
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Optional, Protocol, cast

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.clock import Clock
from bot.config import DiscordSettings
from bot.errors import PaperboyError, PermanentDeliveryError, RetryableDeliveryError
from bot.inbound import MemoryInboundLog
from bot.ports import CommandPort, InboundLog, KeyValueStore, PartRecorder, SentMessage
from bot.types import (
    ChannelRef,
    CommandInvocation,
    CommandSpec,
    Digest,
    FollowUp,
    Message,
    PaperCard,
    ParamKind,
    ParamSpec,
    Permission,
    Platform,
    TextReply,
    UserRef,
)

from . import render as r
from . import translate as t
from .feeds import ANNOUNCEMENT, FORUM_KINDS, NOTE_THREADS, Feeds, permission_problem
from .rest import as_delivery_errors, message_kwargs
from .rest import delivery_error as delivery_error  # re-exported: the delivery loop's view of a failure

logger = logging.getLogger(__name__)

COMMANDS_HASH_KEY = "discord:commands_hash"
READY_TIMEOUT = 30.0
AUTOCOMPLETE_TIMEOUT = 2.5
"""Discord drops an autocomplete answer after 3 seconds."""
GLOBAL_WINDOW = 1.05
"""Discord's global limit (`requests_per_second`, 50 per bot) is counted over 1.05 s, leaving room for jitter."""
FIND_PAGES = 10
CROSSPOSTED = 1 << 0
"""Message flag: published to the servers following an announcement channel."""
NOT_A_TEXT_CHANNEL = 50008
"""Discord's error code for a message posted where messages cannot go (a forum takes posts instead)."""
THREAD_ALREADY_CREATED = 160004
"""Discord's error code when a message already has a thread (one made before a crash)."""
# Seconds for one REST call, including discord.py's own waits on rate limits.
REQUEST_TIMEOUT = 60.0
"""find_delivery reads at most this many pages of 100 messages."""
GUILD_READY_TIMEOUT = 2.0
"""discord.py's wait for GUILD_CREATEs before READY (its default); tests shorten it."""
MAX_SUBCOMMANDS = 25
NONCE_LIMIT = 25
GROUP_DESCRIPTION = "Trending machine-learning papers from Hugging Face Daily Papers"
GENERIC_FAILURE = "Something went wrong on Paperboy's side. Please try again in a moment."
UNREADABLE_COMMAND = "Paperboy could not read that command. `/papers help` lists what it understands."
UNKNOWN_BUTTON = "That button is not one Paperboy knows (it may be from an older message). Try `/papers help`."
CANNOT_MESSAGE_USER = 50007
"""Discord's error code when a user takes no direct message from the bot (DMs closed, or no shared server)."""
DM_CLOSED = (
    "Discord would not deliver a direct message to you (your DMs are closed to Paperboy, or you share no "
    "server with it). Allow direct messages from server members, then run `/papers follow on`."
)
DM_CACHE_SIZE = 10_000
"""How many user -> DM channel ids are remembered; the oldest unused go first."""
INTERACTION_SOURCE = "discord:interaction"
MESSAGE_SOURCE = "discord:message"


class _Hooks(Protocol):
    async def on_setup(self) -> None: ...

    async def on_ready(self) -> None: ...

    async def on_interaction(self, interaction: discord.Interaction) -> None: ...

    async def on_message(self, message: discord.Message) -> None: ...


class _Hooked:
    """Routes a discord.py client's events to the adapter (composition: the adapter owns the client)."""

    def __init__(self, hooks: _Hooks, **options: Any) -> None:
        super().__init__(**options)
        self._paperboy = hooks

    async def setup_hook(self) -> None:
        await self._paperboy.on_setup()

    async def on_ready(self) -> None:
        await self._paperboy.on_ready()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self._paperboy.on_interaction(interaction)

    async def on_message(self, message: discord.Message) -> None:
        await self._paperboy.on_message(message)


class _Client(_Hooked, discord.Client):
    pass


class _RegisteringTree(app_commands.CommandTree[discord.Client]):
    """Builds and syncs `/papers`, and runs nothing: `DiscordAdapter.on_interaction` takes every interaction.

    discord.py's own dispatch matches a payload to its local commands and, when it does not fit (an unknown
    subcommand, a missing or extra option, a malformed option list), only logs, leaving the user with
    "This interaction failed".
    """

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return False


class _ShardedClient(_Hooked, discord.AutoShardedClient):
    pass


class _SlidingWindow:
    """At most `limit` acquisitions in any `window` seconds, as Discord counts its global limit.

    A token bucket that refills at 50/s while holding a burst of 50 lets 100 requests into one second,
    which Discord answers with global 429s; this never does. The window is a little over a second so
    that network jitter cannot squeeze 51 requests into Discord's second.
    """

    def __init__(self, limit: int, window: float) -> None:
        self._limit = limit
        self._window = window
        self._sent: collections.deque[float] = collections.deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            if len(self._sent) >= self._limit:
                wait = self._sent[0] + self._window - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._sent.popleft()
            self._sent.append(loop.time())


def delivery_nonce(delivery_id: str, position: int = 0) -> str:
    """A Discord nonce (<= 25 characters) that is stable for a delivery's part."""
    key = delivery_id if position == 0 else f"{delivery_id}.{position}"
    if len(key) <= NONCE_LIMIT:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{delivery_id[:12]}-{digest[:12]}"


async def _no_suggestions(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Marks an option as autocompleted when it is synced; `DiscordAdapter._suggest` answers instead."""
    raise AssertionError("the registering tree runs no autocomplete")  # pragma: no cover


def _optional(annotation: Any) -> Any:
    return Optional[annotation]  # noqa: UP045 - discord.py resolves typing.Optional at runtime


def _annotation(param: ParamSpec) -> Any:
    if param.kind is ParamKind.INTEGER:
        if param.min_value is not None or param.max_value is not None:
            base: Any = app_commands.Range[int, param.min_value, param.max_value]
        else:
            base = int
    else:
        base = str
    return base if param.required else _optional(base)


class DiscordAdapter:
    """ChatAdapter for Discord (discord.py 2.x).

    `kv` remembers the hash of the last synced command payload, so a restart with the same commands
    does not hit Discord's command-registration limits; without it every start syncs.
    """

    def __init__(
        self,
        settings: DiscordSettings,
        *,
        clock: Clock,
        kv: KeyValueStore | None = None,
        inbound_log: InboundLog | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._kv = kv
        # Which interactions were taken already, shared by the replicas (the database) in production.
        self._inbound = inbound_log or MemoryInboundLog()
        self._client: discord.Client | None = None
        self._tree: app_commands.CommandTree[discord.Client] | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._core: CommandPort | None = None
        self._global_limit = _SlidingWindow(settings.requests_per_second, GLOBAL_WINDOW)
        self.feeds = Feeds(lambda: self.client, self._global_limit.acquire, kv, clock.now)
        """Forum posts and announcement crossposts (`feeds.py`)."""
        self._saved_globals: tuple[str, yarl.URL] | None = None
        self._dm_channels: collections.OrderedDict[str, int] = collections.OrderedDict()
        """user id -> the id of the bot's DM channel with that user (`POST /users/@me/channels`)."""
        self.synced: int = 0
        """How many times start/sync pushed commands to Discord (tests and logs read it)."""

    @property
    def platform(self) -> Platform:
        return Platform.DISCORD

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_ready() and not self._client.is_closed()

    @property
    def client(self) -> discord.Client:
        if self._client is None:
            raise RuntimeError("the Discord adapter is not started")
        return self._client

    # -----------------------------------------------------------------------------------------
    # Lifecycle

    async def start(self, core: CommandPort, *, ready_timeout: float = READY_TIMEOUT) -> None:
        token = self._settings.token.get_secret_value() if self._settings.token else ""
        if not token:
            raise PaperboyError("Discord is not configured: set PAPERBOY_DISCORD__TOKEN (or DISCORD_TOKEN)")
        if self._client is not None:
            raise RuntimeError("the Discord adapter is already started")
        self._core = core
        self._ready = asyncio.Event()
        self._point_at_endpoints()

        intents = discord.Intents.none()
        intents.guilds = True
        if self._settings.read_links:
            # Privileged: the bot must have Message Content switched on in the developer portal.
            intents.guild_messages = True
            intents.message_content = True
        options: dict[str, Any] = {
            "intents": intents,
            "allowed_mentions": discord.AllowedMentions.none(),
            "max_ratelimit_timeout": 60.0,
            "guild_ready_timeout": GUILD_READY_TIMEOUT,
        }
        client: discord.Client
        if self._settings.shard_count is not None:
            client = _ShardedClient(
                self, shard_count=self._settings.shard_count, shard_ids=self._settings.shard_ids, **options
            )
        else:
            client = _Client(self, **options)
        self._client = client
        self._tree = _RegisteringTree(client)

        self._task = asyncio.create_task(client.start(token), name="discord-client")
        ready = asyncio.create_task(self._ready.wait())
        try:
            done, _ = await asyncio.wait({self._task, ready}, timeout=ready_timeout, return_when="FIRST_COMPLETED")
        finally:
            ready.cancel()
        if self._ready.is_set():
            logger.info("discord connected as %s (application %s)", client.user, client.application_id)
            return
        failure = self._task.exception() if self._task in done else None
        await self.stop()
        if isinstance(failure, discord.LoginFailure):
            raise PaperboyError("Discord rejected the token (401): check DISCORD_TOKEN") from None
        if failure is not None:
            raise PaperboyError(f"Discord connection failed: {type(failure).__name__}: {failure}") from failure
        raise PaperboyError(f"Discord did not become ready within {ready_timeout:.0f} s")

    async def stop(self) -> None:
        await self.feeds.stop()
        client, task = self._client, self._task
        self._client, self._task, self._tree = None, None, None
        if client is not None:
            await client.close()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=10)
        self._restore_endpoints()

    def _point_at_endpoints(self) -> None:
        """discord.py reads its endpoints from class attributes; set them, and restore them on stop."""
        if self._saved_globals is None:
            self._saved_globals = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        if self._settings.api_base:
            Route.BASE = self._settings.api_base.rstrip("/")
        if self._settings.gateway_url:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self._settings.gateway_url)

    def _restore_endpoints(self) -> None:
        if self._saved_globals is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved_globals
            self._saved_globals = None

    # -----------------------------------------------------------------------------------------
    # Hooks called by the discord.py client

    async def on_setup(self) -> None:
        """Build `/papers` from the command registry and sync it when it changed (setup_hook)."""
        tree = self._require_tree()
        tree.add_command(self._build_group(list(self._require_core().specs())))
        digest = self._commands_hash()
        stored = await self._kv.get(COMMANDS_HASH_KEY) if self._kv is not None else None
        if stored == digest:
            logger.info("discord commands unchanged (hash %s), not syncing", digest[:12])
            return
        count = await self.sync()
        if self._kv is not None:
            await self._kv.set(COMMANDS_HASH_KEY, digest)
        logger.info("discord commands synced: %d top-level command(s), hash %s", count, digest[:12])

    async def on_ready(self) -> None:
        self._ready.set()

    async def on_message(self, message: discord.Message) -> None:
        """With `read_links`: each paper link in a server message is shared (card posted, library kept)."""
        if not self._settings.read_links or message.author.bot or message.guild is None:
            return
        links = t.paper_links(message.content)
        if not links:
            return
        try:
            if not await self._inbound.first_time(MESSAGE_SOURCE, str(message.id), now=self._clock.now()):
                return  # delivered twice (a resume): shared once
        except Exception as exc:
            logger.warning("discord: inbound log unavailable (%s); not sharing message %s", exc, message.id)
            return
        ref = ChannelRef(Platform.DISCORD, str(message.guild.id), str(message.channel.id))
        user = UserRef(str(message.author.id), message.author.display_name[:80])
        for url in links:
            invocation = CommandInvocation(
                channel=ref,
                user=user,
                text=f"share {url}",
                permission=Permission(False, "channel managers"),
                received_at=self._clock.now(),
                command="share",
                args=(url,),
            )
            try:
                replies = await self._require_core().handle(invocation)
                for card in (m for m in replies if isinstance(m, PaperCard)):
                    await self.send(ref, card)
            except Exception:
                logger.exception("discord: sharing a paper link failed in %s", ref)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Every interaction: an answer for each, an error one included, and never a task left failing."""
        try:
            await self._take(interaction)
        except Exception:
            logger.exception("discord interaction %s (%s) failed", interaction.id, interaction.type)
            await self._refuse(interaction, GENERIC_FAILURE)

    async def _take(self, interaction: discord.Interaction) -> None:
        kind = interaction.type
        data = cast(Mapping[str, Any], interaction.data or {})
        facts, now = self._facts(interaction), self._clock.now()
        try:
            if kind is discord.InteractionType.autocomplete:
                # No side effects and a 3 s budget: not worth a claim in the inbound log.
                await self._suggest(interaction, t.autocomplete(facts, data, now))
                return
            if not await self._first_time(interaction):
                return
            self._learn_kind(interaction)
            if kind is discord.InteractionType.application_command:
                invocation = t.command_invocation(facts, data, now)
            elif kind is discord.InteractionType.component:
                custom_id = data.get("custom_id")
                found = t.component_invocation(facts, custom_id if isinstance(custom_id, str) else "", now)
                if found is None:
                    raise t.UnsupportedPayload(f"unknown button {str(custom_id)[:60]!r}")
                invocation = found
            else:
                raise t.UnsupportedPayload(f"an interaction of type {kind}")
        except t.UnsupportedPayload as exc:
            logger.warning("discord interaction %s in channel %s: %s", interaction.id, interaction.channel_id, exc)
            await self._refuse(interaction, UNKNOWN_BUTTON if kind is discord.InteractionType.component else None)
            return
        spec = next((s for s in self._require_core().specs() if s.name == invocation.command), None)
        await self._run(interaction, invocation, private=spec is not None and spec.private)

    async def _first_time(self, interaction: discord.Interaction) -> bool:
        """Whether no replica took this interaction yet (Discord may deliver one twice, e.g. on a resume)."""
        try:
            first = await self._inbound.first_time(INTERACTION_SOURCE, str(interaction.id), now=self._clock.now())
        except Exception as exc:
            # Answering matters more than the guard: Discord accepts only one response to an interaction anyway.
            logger.warning("discord: inbound log unavailable (%s); taking interaction %s", exc, interaction.id)
            return True
        if not first:
            logger.info("discord: interaction %s was already taken; ignoring the repeat", interaction.id)
        return first

    async def _refuse(self, interaction: discord.Interaction, text: str | None) -> None:
        """Answer at once with a private error (an empty list for autocomplete), unless already answered."""
        try:
            if interaction.response.is_done():
                return
            if interaction.type is discord.InteractionType.autocomplete:
                await interaction.response.autocomplete([])
            else:
                await interaction.response.send_message(
                    r.fit(text or UNREADABLE_COMMAND, 2000),
                    ephemeral=True,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("discord: could not answer interaction %s: %s", interaction.id, exc)

    async def _suggest(self, interaction: discord.Interaction, request: t.Autocomplete) -> None:
        try:
            found = await asyncio.wait_for(
                self._require_core().suggest(request.invocation, request.param, request.current),
                timeout=AUTOCOMPLETE_TIMEOUT,
            )
        except Exception:
            logger.exception("discord autocomplete failed in %s", request.invocation.channel.key)
            found = []
        choices = [app_commands.Choice(name=r.fit(s.label, 100), value=s.value[:100]) for s in found][:25]
        try:
            await interaction.response.autocomplete(choices)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("discord: could not answer autocomplete %s: %s", interaction.id, exc)

    # -----------------------------------------------------------------------------------------
    # Commands

    async def sync(self, guild_id: int | None = None) -> int:
        """Push the command tree to Discord (globally, or to one guild for instant updates)."""
        tree = self._require_tree()
        if guild_id is None:
            synced = await tree.sync()
        else:
            guild = discord.Object(id=guild_id)
            tree.copy_global_to(guild=guild)
            synced = await tree.sync(guild=guild)
        self.synced += 1
        return len(synced)

    def _require_tree(self) -> app_commands.CommandTree[discord.Client]:
        if self._tree is None:
            raise RuntimeError("the Discord adapter is not started")
        return self._tree

    def _commands_hash(self) -> str:
        tree = self._require_tree()
        payload = {
            "application_id": str(self.client.application_id),
            "commands": [command.to_dict(tree) for command in tree.get_commands()],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def _build_group(self, specs: Sequence[CommandSpec]) -> app_commands.Group:
        group = app_commands.Group(name=t.GROUP_NAME, description=GROUP_DESCRIPTION)
        if len(specs) > MAX_SUBCOMMANDS:
            dropped = ", ".join(s.name for s in specs[MAX_SUBCOMMANDS:])
            logger.warning("discord allows %d subcommands per group; not registering %s", MAX_SUBCOMMANDS, dropped)
        for spec in specs[:MAX_SUBCOMMANDS]:
            group.add_command(self._build_command(spec))
        return group

    def _build_command(self, spec: CommandSpec) -> app_commands.Command[Any, ..., None]:
        """A subcommand whose options come from the spec's parameters, through discord.py's public API.

        discord.py derives options from the callback's signature, so the callback gets a `__signature__`
        built from the spec, and the `describe`, `choices` and `autocomplete` decorators add the rest. The
        callbacks never run (`_RegisteringTree`): the raw interaction data is translated instead
        (`translate.command_invocation`), the same way for every subcommand and for recorded payloads.
        """

        async def callback(interaction: discord.Interaction, **_options: Any) -> None:
            raise AssertionError("the registering tree runs no command")  # pragma: no cover

        params = [
            inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction)
        ]
        for param in spec.params:
            params.append(
                inspect.Parameter(
                    param.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=_annotation(param),
                    default=inspect.Parameter.empty if param.required else None,
                )
            )
        callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        decorated: Any = callback
        if spec.params:
            descriptions = {p.name: r.fit(p.description, 100) or p.name for p in spec.params}
            decorated = app_commands.describe(**descriptions)(decorated)
        choices = {
            p.name: [app_commands.Choice(name=c, value=c) for c in p.choices[:25]]
            for p in spec.params
            if p.kind is ParamKind.CHOICE and p.choices
        }
        if choices:
            decorated = app_commands.choices(**choices)(decorated)
        suggested = {p.name: _no_suggestions for p in spec.params if p.suggests}
        if suggested:
            decorated = app_commands.autocomplete(**suggested)(decorated)
        return app_commands.Command(
            name=spec.name,
            description=r.fit(spec.summary, 100) or spec.name,
            callback=decorated,
        )

    def _facts(self, interaction: discord.Interaction) -> t.InteractionFacts:
        in_guild = interaction.guild_id is not None
        return t.InteractionFacts(
            guild_id=str(interaction.guild_id) if in_guild else None,
            channel_id=str(interaction.channel_id or ""),
            user_id=str(interaction.user.id),
            user_name=interaction.user.display_name[:80],
            permissions=interaction.permissions.value if in_guild else None,
        )

    def _require_core(self) -> CommandPort:
        if self._core is None:
            raise RuntimeError("the Discord adapter is not started")
        return self._core

    async def _run(
        self, interaction: discord.Interaction, invocation: CommandInvocation, *, private: bool = False
    ) -> None:
        """Defer at once, run the core, send its replies as follow-ups.

        `private` (the command's spec says so) makes the deferral itself ephemeral.
        """
        ids = f"discord {invocation.channel.key} interaction {interaction.id}"
        try:
            await interaction.response.defer(ephemeral=private, thinking=True)
        except discord.HTTPException:
            logger.exception("%s: could not defer (interaction expired?)", ids)
            return
        try:
            replies = list(await self._require_core().handle(invocation))
        except Exception:
            logger.exception("%s: command %r failed", ids, invocation.command)
            replies = [TextReply(GENERIC_FAILURE, private=True, is_error=True)]
        if not replies:
            replies = [TextReply("Done.", private=private)]
        try:
            await self._reply(interaction, replies, deferred_private=private)
        except discord.HTTPException:
            logger.exception("%s: could not send the reply", ids)

    async def _reply(
        self, interaction: discord.Interaction, replies: Sequence[Message], *, deferred_private: bool
    ) -> None:
        first = True
        for message in replies:
            for post in r.render(message):
                ephemeral = post.ephemeral or deferred_private
                if first and ephemeral and not deferred_private:
                    # The first follow-up replaces the public "thinking" message and would inherit its
                    # visibility; a private first reply has to be a fresh ephemeral message instead.
                    await interaction.delete_original_response()
                first = False
                await interaction.followup.send(
                    **message_kwargs(post),
                    ephemeral=ephemeral,
                    allowed_mentions=discord.AllowedMentions.none(),
                    wait=True,
                )

    # -----------------------------------------------------------------------------------------
    # Posting

    async def send(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        delivery_id: str | None = None,
        posted: Mapping[int, str] | None = None,
        on_part: PartRecorder | None = None,
    ) -> SentMessage:
        """Post each part not yet `posted` over REST, in order: the channel message, then follow-ups in a
        thread started from it (in the channel when no thread can be made).

        Each part carries a nonce (`enforce_nonce`: Discord itself refuses a second post of it for a few
        minutes) and a visible `ref <id>.<part>` marker that `find_parts` reads back after a crash. The
        first failing part raises; the parts before it have been reported to `on_part`.
        """
        if channel.dm_user is not None:
            return await self._send_to_dm(channel, message, delivery_id, posted, on_part)
        kind = await self.feeds.kind(channel)
        if kind in FORUM_KINDS:
            return await self._send_to_forum(channel, message, kind, delivery_id, posted, on_part)
        try:
            return await self._send_to_channel(channel, message, kind, delivery_id, posted, on_part)
        except PermanentDeliveryError as exc:
            cause = exc.__cause__
            if isinstance(cause, discord.HTTPException) and cause.code == NOT_A_TEXT_CHANNEL:
                # The channel became a forum since its kind was learned: learn it again and post the forum way.
                await self.feeds.forget(channel)
                raise RetryableDeliveryError("the channel is now a forum", retry_after=0.0) from exc
            raise

    async def _send_to_channel(
        self,
        channel: ChannelRef,
        message: Message,
        kind: int,
        delivery_id: str | None,
        posted: Mapping[int, str] | None,
        on_part: PartRecorder | None,
    ) -> SentMessage:
        if kind == ANNOUNCEMENT:
            await self.feeds.flush_crossposts(channel)
        posts = r.render(message, marker=delivery_id)
        done = dict(posted or {})
        channel_id = int(channel.channel_id)
        thread_id: int | None = None
        thread_tried = False
        for position, post in enumerate(posts):
            if position in done:
                continue
            nonce = delivery_nonce(delivery_id, position) if delivery_id else None
            target = channel_id
            if post.under is not None:
                message_id = await self._post_under(channel, int(post.under), post, nonce=nonce)
            else:
                if position > 0 and post.thread:
                    if not thread_tried:
                        thread_tried = True
                        thread_id = await self._thread_for(channel, channel_id, int(done[0]), message)
                    target = thread_id or channel_id
                async with as_delivery_errors(channel):
                    message_id = await self._post(target, post, nonce=nonce)
            done[position] = message_id
            if on_part is not None:
                await on_part(position, message_id)
            if kind == ANNOUNCEMENT and post.under is None and target == channel_id:
                # Published so that servers following the channel get it; the thread's parts stay here.
                await self.feeds.crosspost(channel, message_id)
        if isinstance(message, Digest) and message.threads and not thread_tried and 0 in done:
            # `settings threads on`: discussion goes in the digest's own thread, not under the next digest.
            # Opening it again after a crash finds the one made (Discord's 160004).
            opened = await self._thread_for(channel, channel_id, int(done[0]), message)
            await self.feeds.note(
                channel,
                NOTE_THREADS,
                None
                if opened is not None
                else "Paperboy could not open the digest's discussion thread (`settings threads on`): "
                "it needs Create Public Threads in this channel.",
            )
        ids = [done[p] for p in sorted(done)]
        return SentMessage(ids[0], tuple(ids[1:]))

    async def _send_to_dm(
        self,
        channel: ChannelRef,
        message: Message,
        delivery_id: str | None,
        posted: Mapping[int, str] | None,
        on_part: PartRecorder | None,
    ) -> SentMessage:
        """A person's direct messages (`ChannelRef.dm`): every part in the DM channel, in order.

        A DM is a plain text channel (type 1) with no threads, forum or followers: the parts after the
        first follow it in the DM, and a follow-up is a reply to the message that carried its paper.
        """
        posts = r.render(message, marker=delivery_id)
        done = dict(posted or {})
        async with self._dm_errors(channel):
            dm = await self._dm_channel(channel)
            for position, post in enumerate(posts):
                if position in done:
                    continue
                nonce = delivery_nonce(delivery_id, position) if delivery_id else None
                reply_to = int(post.under) if post.under is not None and post.under.isdigit() else None
                message_id = await self._post(dm, post, nonce=nonce, reply_to=reply_to)
                done[position] = message_id
                if on_part is not None:
                    await on_part(position, message_id)
        ids = [done[p] for p in sorted(done)]
        return SentMessage(ids[0], tuple(ids[1:]))

    async def _dm_channel(self, channel: ChannelRef) -> int:
        """The bot's DM channel with the person of `channel`: created (or got: Discord returns the same
        one every time) with `POST /users/@me/channels`, and remembered."""
        user = channel.dm_user or ""
        known = self._dm_channels.get(user)
        if known is not None:
            self._dm_channels.move_to_end(user)
            return known
        if not user.isdigit():
            raise PermanentDeliveryError(f"{user[:40]!r} is not a Discord user id")
        await self._global_limit.acquire()
        data = await asyncio.wait_for(self.client.http.start_private_message(int(user)), timeout=REQUEST_TIMEOUT)
        dm = int(data["id"])
        self._dm_channels[user] = dm
        while len(self._dm_channels) > DM_CACHE_SIZE:
            self._dm_channels.popitem(last=False)
        return dm

    @contextlib.asynccontextmanager
    async def _dm_errors(self, channel: ChannelRef) -> AsyncIterator[None]:
        """Delivery errors of a person's DM; Discord's 50007 (the person takes no DM from Paperboy) says
        what they can do about it. A permanent failure forgets the DM channel, so the next try asks again."""
        try:
            async with as_delivery_errors(channel):
                yield
        except PermanentDeliveryError as exc:
            self._dm_channels.pop(channel.dm_user or "", None)
            cause = exc.__cause__
            if isinstance(cause, discord.HTTPException) and cause.code == CANNOT_MESSAGE_USER:
                raise PermanentDeliveryError(DM_CLOSED) from cause
            raise

    def _learn_kind(self, interaction: discord.Interaction) -> None:
        """A command used in a channel says the channel's kind: the next digest needs no request for it."""
        kind = getattr(interaction.channel, "type", None)
        if interaction.guild_id is not None and interaction.channel_id is not None and kind is not None:
            self.feeds.seen(interaction.channel_id, int(kind.value))

    async def _send_to_forum(
        self,
        channel: ChannelRef,
        message: Message,
        kind: int,
        delivery_id: str | None,
        posted: Mapping[int, str] | None,
        on_part: PartRecorder | None,
    ) -> SentMessage:
        """A forum takes a post per paper (`feeds.send_forum`); a follow-up goes into its paper's own post."""
        done = dict(posted or {})

        def nonce(position: int) -> str | None:
            return delivery_nonce(delivery_id, position) if delivery_id else None

        try:
            if isinstance(message, FollowUp):
                if 0 not in done:
                    target = await self._forum_followup_target(channel, message, delivery_id)
                    post = r.render(message, marker=delivery_id)[0]
                    async with as_delivery_errors(channel):
                        done[0] = await self._post(int(target), post, nonce=nonce(0))
                    if on_part is not None:
                        await on_part(0, done[0])
            else:
                await self.feeds.send_forum(
                    channel,
                    message,
                    delivery_id=delivery_id,
                    done=done,
                    on_part=on_part,
                    post=lambda target, part, n: self._post(target, part, nonce=n),
                    nonce=nonce,
                )
        except PermanentDeliveryError as exc:
            raise PermanentDeliveryError(permission_problem(exc, kind)) from exc
        ids = [done[p] for p in sorted(done)]
        return SentMessage(ids[0], tuple(ids[1:]))

    async def _forum_followup_target(self, channel: ChannelRef, message: FollowUp, delivery_id: str | None) -> str:
        """The paper's own post (remembered when it was made), else the post the follow-up's parent is.

        The target is written down before posting, so `find_parts` looks in the same post after a crash.
        """
        target = await self.feeds.post_of(channel, message.paper.id) or message.parent
        if target is None:
            raise PermanentDeliveryError("this forum has no post for the paper to follow up in")
        if delivery_id and self._kv is not None:
            await self._kv.set(f"discord:followup-in:{delivery_id}", target)
        return target

    async def _post_under(self, channel: ChannelRef, parent: int, post: r.DiscordPost, *, nonce: str | None) -> str:
        """Post in the thread of message `parent` (created when there is none yet); when the thread
        cannot be made or refuses the post (archived and locked, no permission to post in threads), as a
        reply to `parent` in the channel: a follow-up never pauses a channel that would take it."""
        channel_id = int(channel.channel_id)
        thread_id = await self._thread_for(channel, channel_id, parent, name="Paperboy follow-ups")
        if thread_id is not None:
            try:
                async with as_delivery_errors(channel):
                    return await self._post(thread_id, post, nonce=nonce)
            except PermanentDeliveryError as exc:
                logger.warning(
                    "discord %s: the thread refused a follow-up (%s); replying in the channel", channel.key, exc
                )
        async with as_delivery_errors(channel):
            return await self._post(channel_id, post, nonce=nonce, reply_to=parent)

    async def _post(
        self, channel_id: int, post: r.DiscordPost, *, nonce: str | None, reply_to: int | None = None
    ) -> str:
        payload = post.payload()
        payload["allowed_mentions"] = {"parse": []}
        if nonce:
            payload["nonce"] = nonce
            payload["enforce_nonce"] = True
        if reply_to is not None:
            # A reply to a message that was deleted meanwhile is posted as a plain message.
            payload["message_reference"] = {"message_id": str(reply_to), "fail_if_not_exists": False}
        await self._global_limit.acquire()
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
        # discord.py's session has aiohttp's 300 s default; a hung call must not hold a delivery that long.
        # The limit leaves room for discord.py's own waits on rate limits.
        data = await asyncio.wait_for(self.client.http.request(route, json=payload), timeout=REQUEST_TIMEOUT)
        return str(data["id"])

    async def _thread_for(
        self,
        channel: ChannelRef,
        channel_id: int,
        message_id: int,
        message: Message | None = None,
        *,
        name: str = "More papers",
    ) -> int | None:
        """The thread under message `message_id`: created now, or the one created before (Discord gives a
        thread started from a message that message's id); None when none can be made."""
        day = getattr(message, "day", None)
        if day is not None:
            name = f"Paperboy digest {day:%Y-%m-%d}"
        try:
            await self._global_limit.acquire()
            thread = await self.client.http.start_thread_with_message(
                channel_id, message_id, name=name, auto_archive_duration=1440
            )
        except discord.HTTPException as exc:
            if exc.code == THREAD_ALREADY_CREATED:
                return message_id
            logger.warning("discord %s: no thread for the digest (%s); following up in the channel", channel.key, exc)
            return None
        except (TimeoutError, aiohttp.ClientError) as exc:
            logger.warning("discord %s: no thread for the digest (%s); following up in the channel", channel.key, exc)
            return None
        return int(thread["id"])

    async def find_parts(
        self,
        channel: ChannelRef,
        delivery_id: str,
        since: datetime,
        posted: Mapping[int, str],
        *,
        under: str | None = None,
    ) -> dict[int, str]:
        """Scan the channel (since `since`) and the thread under the first part for the parts' markers;
        for a delivery posted under `under` (a follow-up), that message's thread and the channel (where
        it is a reply when no thread could take it). In a forum: the delivery's posts (`feeds`), or the
        post a follow-up went into. In an announcement channel, a part found but not yet published (the
        bot stopped in between) is published now."""
        if channel.dm_user is not None:
            # Every part of a DM delivery, follow-up replies included, is in the DM channel itself.
            async with self._dm_errors(channel):
                return await self._scan(channel, await self._dm_channel(channel), delivery_id, since)
        kind = await self.feeds.kind(channel)
        if kind in FORUM_KINDS:
            return await self._find_in_forum(channel, delivery_id, since, posted, under)
        unpublished: set[str] = set()
        found = await self._scan(channel, int(channel.channel_id), delivery_id, since, unpublished)
        if kind == ANNOUNCEMENT:
            for message_id in sorted(unpublished, key=int):
                await self.feeds.crosspost(channel, message_id)
        if under is not None:
            with contextlib.suppress(PermanentDeliveryError):  # no thread under it: only the channel
                in_thread = await self._scan(channel, int(under), delivery_id, since)
                found.update({p: m for p, m in in_thread.items() if p not in found})
            return found
        top = posted.get(0) or found.get(0)
        if top is not None:
            # No thread under the first part (PermanentDeliveryError): the follow-ups, if any, are in the channel.
            with contextlib.suppress(PermanentDeliveryError):
                in_thread = await self._scan(channel, int(top), delivery_id, since)
                found.update({p: m for p, m in in_thread.items() if p})
        return found

    async def _find_in_forum(
        self, channel: ChannelRef, delivery_id: str, since: datetime, posted: Mapping[int, str], under: str | None
    ) -> dict[int, str]:
        if under is not None:
            noted = await self._kv.get(f"discord:followup-in:{delivery_id}") if self._kv is not None else None
            with contextlib.suppress(PermanentDeliveryError):  # the post is gone: nothing of it landed there
                return await self._scan(channel, int(noted or under), delivery_id, since)
            return {}
        found = await self.feeds.find_forum_parts(channel, delivery_id, since)
        top = posted.get(0) or found.get(0)
        if top is not None:
            # The parts inside the first post (a weekly rollup's), after its first message.
            with contextlib.suppress(PermanentDeliveryError):
                inside = await self._scan(channel, int(top), delivery_id, since)
                found.update({p: m for p, m in inside.items() if p not in found})
        return found

    async def _scan(
        self,
        channel: ChannelRef,
        channel_id: int,
        delivery_id: str,
        since: datetime,
        unpublished: set[str] | None = None,
    ) -> dict[int, str]:
        after = discord.utils.time_snowflake(since, high=False)
        me = self.client.user.id if self.client.user else None
        found: dict[int, str] = {}
        async with as_delivery_errors(channel):
            for _ in range(FIND_PAGES):
                await self._global_limit.acquire()
                page = await asyncio.wait_for(
                    self.client.http.logs_from(channel_id, 100, after=after), timeout=REQUEST_TIMEOUT
                )
                for item in page:
                    if me is not None and str(item.get("author", {}).get("id")) != str(me):
                        continue
                    positions = r.marker_positions(cast(Mapping[str, Any], item), delivery_id)
                    for position in positions:
                        found.setdefault(position, str(item["id"]))
                    if positions and unpublished is not None and not int(item.get("flags") or 0) & CROSSPOSTED:
                        unpublished.add(str(item["id"]))
                if len(page) < 100:
                    return found
                after = max(int(item["id"]) for item in page)
        logger.warning("discord %s: find_parts %s read %d pages", channel.key, delivery_id, FIND_PAGES)
        return found

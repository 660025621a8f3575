"""A loopback fake of Discord's REST API and gateway, good enough for the real discord.py 2.7.

REST under `/api/v10`, gateway WebSocket at `/gateway`. It records what the bot sent (command syncs,
interaction callbacks, follow-ups, channel posts with nonce and allowed_mentions), enforces Discord's
message limits (400 / code 50035 like Discord), and has knobs for 429s (with `Via` and X-RateLimit-*
headers, as discord.py needs them to treat the 429 as a rate limit), 5xx and permanent errors.

What discord.py insists on (DESIGN §11): `Content-Type: application/json` exactly, text frames on
the gateway, READY with user/guilds/session_id/resume_gateway_url/application, and interaction
payloads with `version`, `application_id`, `attachment_size_limit`.

For the reliability tests and benches: `chaos` (tests/fakes/chaos.py) fails a seeded random share of
channel posts and history reads (429, 5xx, dropped connections before or after the post is made);
`global_rate` enforces Discord's global requests-per-second budget with a global 429; and a post with
`enforce_nonce` and a nonce seen before in that channel returns the earlier message instead of posting
again, as Discord does.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import time as monotonic_time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from aiohttp import WSMsgType, web
from pydantic import SecretStr

from bot.actions import paper_actions, topic_actions
from bot.config import DiscordSettings
from bot.features import command_specs
from bot.types import (
    ChannelRef,
    CommandInvocation,
    Digest,
    DigestEntry,
    DigestReason,
    ExportFile,
    ListedPaper,
    Message,
    Paper,
    PaperCard,
    PaperList,
    Status,
    TextReply,
    TopicList,
    TopicSummary,
)
from tests.fakes.chaos import Chaos, Fault
from tests.fakes.common import ScriptedCore, Served, serve, wait_for, words
from tests.fakes.common import paper as make_paper

APP_ID = "111111111111111111"
BOT_ID = "111111111111111111"
GUILD_ID = "222222222222222222"

_TIMESTAMP = "2026-01-01T00:00:00.000000+00:00"

ANNOUNCEMENT = 5
FORUM_TYPES = (15, 16)
THREAD_NAME_LIMIT = 100
FORUM_TAG_LIMIT = 20
TAG_NAME_LIMIT = 20
APPLIED_TAG_LIMIT = 5
CROSSPOSTS_PER_WINDOW = 10
CROSSPOST_WINDOW = 3600.0
FORUM_POSTS_PER_WINDOW = 5
FORUM_WINDOW = 5.0
REQUIRE_TAG = 1 << 4
"""Channel flag of a forum whose posts must carry a tag."""
CROSSPOSTED = 1 << 0
"""Message flag: published to the channel's followers."""


@dataclass
class Posted:
    """One message the bot created: in a channel, or as an interaction follow-up."""

    id: str
    channel_id: str
    body: dict[str, Any]
    via: str  # "channel" or "followup"

    @property
    def content(self) -> str:
        return str(self.body.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.body.get("embeds") or [])

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.body.get("flags") or 0) & 64)


@dataclass
class Knobs:
    rate_limit: dict[str, int] = field(default_factory=dict)
    """channel id -> how many POSTs to answer with 429 before accepting."""
    retry_after: float = 0.2
    server_error: dict[str, int] = field(default_factory=dict)
    """channel id -> how many POSTs to answer with 503."""
    permanent: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    """channel id -> (status, code, message), e.g. (404, 10003, "Unknown Channel")."""
    thread_forbidden: bool = False
    locked_threads: set[str] = field(default_factory=set)
    """thread ids that are archived and locked: posting in them is refused (50083), as on Discord."""
    no_send_messages: set[str] = field(default_factory=set)
    """channel ids the bot can see but not post in: new messages and forum posts are refused (50013)."""
    no_manage_channels: set[str] = field(default_factory=set)
    """channel ids where the bot lacks Manage Channels: editing the channel (its tags) is refused (50013)."""
    refuse_login: bool = False
    closed_dms: set[str] = field(default_factory=set)
    """user ids who take no DM from the bot (DMs closed, or no shared server): posting in their DM
    channel is refused with 403 / 50007, as on Discord. Creating the DM channel still succeeds."""


def limit_problems(body: dict[str, Any]) -> list[str]:
    """Discord's message limits, checked independently of the renderer."""
    problems: list[str] = []
    content = body.get("content") or ""
    if len(content) > 2000:
        problems.append(f"content: {len(content)} > 2000")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append(f"embeds: {len(embeds)} > 10")
    total = 0
    for i, e in enumerate(embeds):
        checks = [
            ("title", len(e.get("title") or ""), 256),
            ("description", len(e.get("description") or ""), 4096),
            ("footer", len((e.get("footer") or {}).get("text") or ""), 2048),
            ("author", len((e.get("author") or {}).get("name") or ""), 256),
            ("fields", len(e.get("fields") or []), 25),
        ]
        total += sum(n for name, n, _ in checks if name != "fields")
        for f in e.get("fields") or []:
            checks.append(("field.name", len(f.get("name") or ""), 256))
            checks.append(("field.value", len(f.get("value") or ""), 1024))
            if not f.get("name") or not f.get("value"):
                problems.append(f"embeds.{i}.fields: empty name or value")
            total += len(f.get("name") or "") + len(f.get("value") or "")
        problems.extend(f"embeds.{i}.{name}: {n} > {lim}" for name, n, lim in checks if n > lim)
    if total > 6000:
        problems.append(f"embeds: {total} characters > 6000")
    rows = body.get("components") or []
    if len(rows) > 5:
        problems.append(f"components: {len(rows)} rows > 5")
    for row in rows:
        buttons = row.get("components") or []
        if len(buttons) > 5:
            problems.append(f"components: {len(buttons)} buttons in a row > 5")
        for b in buttons:
            if len(b.get("custom_id") or "") > 100:
                problems.append("custom_id > 100")
            if len(b.get("label") or "") > 80:
                problems.append("label > 80")
    nonce = body.get("nonce")
    if nonce is not None and len(str(nonce)) > 25:
        problems.append("nonce > 25")
    if not content and not embeds and not rows:
        problems.append("empty message")
    return problems


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py only parses JSON when the content type is exactly `application/json`.
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)


def _error(status: int, code: int, message: str, **extra: Any) -> web.Response:
    return _json({"code": code, "message": message, **extra}, status=status)


def bot_user() -> dict[str, Any]:
    """The bot's user object, as Discord returns it (GET /users/@me, message authors)."""
    return {
        "id": BOT_ID,
        "username": "Paperboy",
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "bot": True,
        "public_flags": 0,
        "flags": 0,
    }


def message_object(channel_id: str, body: dict[str, Any], message_id: str) -> dict[str, Any]:
    """A message the bot posted with `body` (content, embeds, components, flags, nonce), as Discord
    returns it."""
    return {
        "id": message_id,
        "channel_id": channel_id,
        "type": 0,
        "content": body.get("content") or "",
        "embeds": body.get("embeds") or [],
        "components": body.get("components") or [],
        "attachments": [],
        "author": bot_user(),
        "timestamp": _TIMESTAMP,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "flags": int(body.get("flags") or 0),
        "nonce": body.get("nonce"),
    }


class FakeDiscord:
    def __init__(self, epoch: datetime | None = None) -> None:
        self.knobs = Knobs()
        self.command_puts: list[tuple[str | None, list[dict[str, Any]]]] = []
        self.callbacks: list[dict[str, Any]] = []
        self.posted: list[Posted] = []
        self.rejected: list[tuple[str, list[str]]] = []
        self.threads: list[dict[str, Any]] = []
        self.deleted_originals: list[str] = []
        self.events: list[str] = []
        """Ordered log: "callback:<interaction id>", "followup:<token>", "post:<channel>", "429:<channel>"."""
        self.requests: list[tuple[str, str]] = []
        self.identifies: list[dict[str, Any]] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.guilds = [GUILD_ID]
        self.chaos: Chaos | None = None
        self.global_rate: float | None = None
        """Requests per second accepted across channel posts and reads (None: no limit)."""
        self.rate_limited_requests = 0
        self.nonce_replays = 0
        """Posts answered with an earlier message because their nonce was seen (enforce_nonce)."""
        self._nonces: dict[tuple[str, str], dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.dms: dict[str, str] = {}
        """user id -> the DM channel `POST /users/@me/channels` made with that user (type 1, no guild)."""
        """Channels made with add_channel / add_forum; any other id is a text channel (type 0)."""
        self.crossposted: list[tuple[str, str]] = []
        """(channel id, message id) of every message published to the channel's followers."""
        self.crosspost_window = CROSSPOST_WINDOW
        self.crosspost_clock_offset = 0.0
        """Seconds added to the fake's clock for the crosspost limit (tests move time instead of sleeping)."""
        self._crossposts: dict[str, collections.deque[float]] = {}
        self.forum_bucket = (FORUM_POSTS_PER_WINDOW, FORUM_WINDOW)
        """A forum's per-route bucket for new posts: (posts, seconds); a 429 with the bucket's headers beyond."""
        self.forum_429s = 0
        self._forum_posts: dict[str, collections.deque[float]] = {}
        self._recent: collections.deque[float] = collections.deque()
        # snowflakes from the tests' "now", so that `after=<snowflake of since>` pages behave like Discord's
        # (`epoch`: a bot in another process runs on the system clock, and the ids must follow it)
        start = epoch or NOW
        self._ids = itertools.count(((int(start.timestamp() * 1000) - 1420070400000) << 22) + 1)
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._served: Served | None = None
        self.port = 0

    # -------------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        app = web.Application(middlewares=[self._log])
        r = app.router
        r.add_get("/api/v10/users/@me", self._me)
        r.add_get("/api/v10/oauth2/applications/@me", self._application)
        r.add_post("/api/v10/users/@me/channels", self._create_dm)
        r.add_get("/api/v10/gateway", self._gateway)
        r.add_get("/api/v10/gateway/bot", self._gateway_bot)
        r.add_put("/api/v10/applications/{app}/commands", self._put_commands)
        r.add_put("/api/v10/applications/{app}/guilds/{guild}/commands", self._put_commands)
        r.add_post("/api/v10/interactions/{id}/{token}/callback", self._callback)
        r.add_post("/api/v10/webhooks/{app}/{token}", self._followup)
        r.add_patch("/api/v10/webhooks/{app}/{token}/messages/@original", self._edit_original)
        r.add_delete("/api/v10/webhooks/{app}/{token}/messages/@original", self._delete_original)
        r.add_post("/api/v10/channels/{channel}/messages", self._post_message)
        r.add_get("/api/v10/channels/{channel}/messages", self._get_messages)
        r.add_post("/api/v10/channels/{channel}/messages/{message}/threads", self._thread)
        r.add_get("/api/v10/channels/{channel}", self._get_channel)
        r.add_patch("/api/v10/channels/{channel}", self._edit_channel)
        r.add_post("/api/v10/channels/{channel}/threads", self._forum_post)
        r.add_get("/api/v10/channels/{channel}/threads/archived/public", self._archived_threads)
        r.add_get("/api/v10/guilds/{guild}/threads/active", self._active_threads)
        r.add_get("/api/v10/channels/{channel}/messages/{message}", self._get_message)
        r.add_post("/api/v10/channels/{channel}/messages/{message}/crosspost", self._crosspost)
        r.add_get("/gateway", self._ws)
        self._served = await serve(app)
        self.port = self._served.port

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._served is not None:
            await self._served.stop()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def next_id(self) -> str:
        return str(next(self._ids))

    @web.middleware
    async def _log(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        assert request.headers.get("Authorization", "").startswith("Bot ") or request.path.startswith(
            ("/gateway", "/api/v10/interactions", "/api/v10/webhooks")
        )
        response: web.StreamResponse = await handler(request)
        return response

    # -------------------------------------------------------------------------------- REST

    async def _me(self, request: web.Request) -> web.Response:
        if self.knobs.refuse_login:
            return _error(401, 0, "401: Unauthorized")
        return _json(bot_user())

    async def _application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": APP_ID,
                "name": "Paperboy",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": {"id": "1", "username": "owner", "discriminator": "0", "avatar": None},
                "team": None,
                "summary": "",
            }
        )

    async def _gateway(self, request: web.Request) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1},
            }
        )

    async def _put_commands(self, request: web.Request) -> web.Response:
        payload = await request.json()
        guild = request.match_info.get("guild")
        self.command_puts.append((guild, payload))
        out = []
        for command in payload:
            item = {
                "id": self.next_id(),
                "application_id": APP_ID,
                "version": "1",
                "type": 1,
                "default_member_permissions": None,
                "dm_permission": True,
                "nsfw": False,
                **command,
            }
            if guild:
                item["guild_id"] = guild
            out.append(item)
        return _json(out)

    async def _callback(self, request: web.Request) -> web.Response:
        body = await request.json()
        interaction_id = request.match_info["id"]
        self.callbacks.append({"interaction_id": interaction_id, "token": request.match_info["token"], **body})
        self.events.append(f"callback:{interaction_id}")
        data = body.get("data") or {}
        return _json(
            {
                "interaction": {
                    "id": interaction_id,
                    "type": 2,
                    "response_message_loading": body.get("type") == 5,
                    "response_message_ephemeral": bool(int(data.get("flags") or 0) & 64),
                }
            }
        )

    def _message(self, channel_id: str, body: dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
        return message_object(channel_id, body, message_id or self.next_id())

    async def _followup(self, request: web.Request) -> web.Response:
        body = await self._body_and_files(request)
        problems = limit_problems(body)
        if problems:
            self.rejected.append(("followup", problems))
            return _error(400, 50035, "Invalid Form Body", errors=problems)
        token = request.match_info["token"]
        message = self._message("0", body)
        self.posted.append(Posted(message["id"], f"followup:{token}", body, "followup"))
        self.events.append(f"followup:{token}")
        return _json(message)

    async def _body_and_files(self, request: web.Request) -> dict[str, Any]:
        """The JSON body of a message; with attachments (multipart), `payload_json` plus `_files`."""
        if not request.content_type.startswith("multipart/"):
            body: dict[str, Any] = await request.json()
            return body
        form = await request.post()
        body = json.loads(str(form["payload_json"]))
        files = {}
        for name, value in form.items():
            if name.startswith("files[") and hasattr(value, "file"):
                files[value.filename] = value.file.read()
        body["_files"] = files
        return body

    async def _edit_original(self, request: web.Request) -> web.Response:
        body = await request.json()
        return _json(self._message("0", body))

    async def _delete_original(self, request: web.Request) -> web.Response:
        self.deleted_originals.append(request.match_info["token"])
        self.events.append(f"delete-original:{request.match_info['token']}")
        return web.Response(status=204)

    def _global_limited(self) -> web.Response | None:
        if self.global_rate is None:
            return None
        now = monotonic_time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) < self.global_rate:
            self._recent.append(now)
            return None
        self.rate_limited_requests += 1
        wait = round(max(0.001, 1.0 - (now - self._recent[0])), 3)
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(wait))),
            "X-RateLimit-Global": "true",
            "X-RateLimit-Scope": "global",
        }
        body = {"message": "You are being rate limited.", "retry_after": wait, "global": True}
        return _json(body, status=429, headers=headers)

    async def _chaos(self, request: web.Request, method: str) -> tuple[Fault | None, web.Response | None]:
        """A fault to serve instead of (or after) processing the request; None when it goes through."""
        fault = self.chaos.draw(method) if self.chaos is not None else None
        if fault is None or fault in (Fault.TIMEOUT_AFTER, Fault.DROP_AFTER):
            return fault, None
        assert self.chaos is not None
        if fault is Fault.RATE_LIMITED:
            wait = self.chaos.wait()
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, round(wait))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(wait),
                "X-RateLimit-Bucket": "chaos",
                "X-RateLimit-Scope": "user",
            }
            body = {"message": "You are being rate limited.", "retry_after": wait, "global": False}
            return fault, _json(body, status=429, headers=headers)
        if fault is Fault.TIMEOUT_BEFORE:
            await asyncio.sleep(self.chaos.hang)
        elif fault is Fault.DROP_BEFORE and request.transport is not None:
            request.transport.close()
        # 503: discord.py does not retry it by itself (it sleeps seconds on 500/502/504), Paperboy does.
        return fault, _error(503, 0, "Service Unavailable")

    async def _after(self, request: web.Request, fault: Fault | None, response: web.Response) -> web.Response:
        if fault is Fault.TIMEOUT_AFTER:
            assert self.chaos is not None
            await asyncio.sleep(self.chaos.hang)
        elif fault is Fault.DROP_AFTER and request.transport is not None:
            request.transport.close()
        return response

    async def _post_message(self, request: web.Request) -> web.Response:
        limited = self._global_limited()
        if limited is not None:
            return limited
        fault, failed = await self._chaos(request, "post")
        if failed is not None:
            return failed
        return await self._after(request, fault, await self._create_message(request))

    async def _create_message(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        body = await request.json()
        if channel in self.knobs.permanent:
            status, code, message = self.knobs.permanent[channel]
            return _error(status, code, message)
        if self.knobs.rate_limit.get(channel, 0) > 0:
            self.knobs.rate_limit[channel] -= 1
            self.events.append(f"429:{channel}")
            wait = self.knobs.retry_after
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, round(wait))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(wait),
                "X-RateLimit-Bucket": f"bucket-{channel}",
                "X-RateLimit-Scope": "user",
            }
            return _json(
                {"message": "You are being rate limited.", "retry_after": wait, "global": False},
                status=429,
                headers=headers,
            )
        if self.knobs.server_error.get(channel, 0) > 0:
            self.knobs.server_error[channel] -= 1
            return _error(503, 0, "Service Unavailable")
        if channel in self.knobs.locked_threads:
            return _error(400, 50083, "Operation cannot be performed on an archived thread")
        if channel in self.knobs.no_send_messages:
            return _error(403, 50013, "Missing Permissions")
        if self.dm_recipient(channel) in self.knobs.closed_dms:
            return _error(403, 50007, "Cannot send messages to this user")
        if self._channel(channel)["type"] in FORUM_TYPES:
            # As on Discord: a forum takes posts (POST /channels/{id}/threads), not messages.
            return _error(400, 50008, "Cannot send messages in a non-text channel")
        problems = limit_problems(body)
        if problems:
            self.rejected.append((channel, problems))
            return _error(400, 50035, "Invalid Form Body", errors=problems)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self._nonces.get((channel, str(nonce)))
            if earlier is not None:
                self.nonce_replays += 1
                return _json(earlier)
        message = self._message(channel, body)
        if nonce is not None:
            self._nonces[(channel, str(nonce))] = message
        self.messages.setdefault(channel, []).append(message)
        self.posted.append(Posted(message["id"], channel, body, "channel"))
        self.events.append(f"post:{channel}")
        return _json(
            message,
            headers={
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "4",
                "X-RateLimit-Reset-After": "1.0",
                "X-RateLimit-Bucket": f"bucket-{channel}",
            },
        )

    async def _get_messages(self, request: web.Request) -> web.Response:
        limited = self._global_limited()
        if limited is not None:
            return limited
        fault, failed = await self._chaos(request, "history")
        if failed is not None:
            return failed
        return await self._after(request, fault, self._history(request))

    def _history(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if channel in self.knobs.permanent:
            status, code, message = self.knobs.permanent[channel]
            return _error(status, code, message)
        unknown = channel not in self.messages and not any(t["id"] == channel for t in self.threads)
        if unknown and any(m["id"] == channel for msgs in self.messages.values() for m in msgs):
            # A message's id that no thread was started from: Discord knows no such channel.
            return _error(404, 10003, "Unknown Channel")
        after = int(request.query.get("after", "0"))
        limit = int(request.query.get("limit", "50"))
        newer = [m for m in self.messages.get(channel, []) if int(m["id"]) > after]
        newer.sort(key=lambda m: int(m["id"]))
        page = newer[:limit]
        page.reverse()  # Discord returns newest first
        return _json([{k: v for k, v in m.items() if k != "nonce"} for m in page])

    async def _thread(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if self.knobs.thread_forbidden:
            return _error(403, 50013, "Missing Permissions")
        body = await request.json()
        # As on Discord: a thread started from a message has that message's id, and a message has one.
        thread_id = request.match_info["message"]
        if not any(m["id"] == thread_id for m in self.messages.get(channel, [])):
            return _error(404, 10008, "Unknown Message")
        if any(t["id"] == thread_id for t in self.threads):
            return _error(400, 160004, "A thread has already been created for this message")
        thread = {
            "id": thread_id,
            "type": 11,
            "guild_id": GUILD_ID,
            "parent_id": channel,
            "name": body.get("name"),
            "owner_id": BOT_ID,
            "message_count": 0,
            "member_count": 1,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "locked": False,
                "archive_timestamp": _TIMESTAMP,
            },
        }
        self.threads.append({"from_message": request.match_info["message"], "channel": channel, **thread})
        return _json(thread)

    async def _create_dm(self, request: web.Request) -> web.Response:
        """Create DM (`POST /users/@me/channels`, JSON `recipient_id`): the DM channel object, the same one
        for every call with that user, as Discord returns an existing DM rather than a second one."""
        limited = self._global_limited()
        if limited is not None:
            return limited
        body = await request.json()
        recipient = body.get("recipient_id") if isinstance(body, dict) else None
        if isinstance(recipient, int) and not isinstance(recipient, bool):
            recipient = str(recipient)
        if not isinstance(recipient, str) or not recipient.isdigit():
            errors = {"recipient_id": {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": "Not a snowflake."}]}}
            return _error(400, 50035, "Invalid Form Body", errors=errors)
        channel_id = self.dms.get(recipient)
        if channel_id is None:
            channel_id = self.dms[recipient] = self.next_id()
            user = {"id": recipient, "username": f"user{recipient[-4:]}", "discriminator": "0", "global_name": None}
            self.channels[channel_id] = {
                "id": channel_id,
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [{**user, "avatar": None, "public_flags": 0}],
            }
        return _json(self.channels[channel_id])

    def dm_recipient(self, channel_id: str) -> str | None:
        """The user of DM channel `channel_id`, or None when it is not a DM channel."""
        return next((user for user, dm in self.dms.items() if dm == channel_id), None)

    # -------------------------------------------------------------------------------- channel kinds

    def add_channel(self, channel_id: str, kind: int, **extra: Any) -> dict[str, Any]:
        """A guild channel of Discord type `kind` (0 text, 5 announcement, 15 forum, 16 media)."""
        channel = {
            "id": channel_id,
            "type": kind,
            "guild_id": GUILD_ID,
            "name": f"channel-{channel_id}",
            "position": 0,
            "permission_overwrites": [],
            "parent_id": None,
            "nsfw": False,
            "flags": 0,
            "last_message_id": None,
            **extra,
        }
        self.channels[channel_id] = channel
        return channel

    def add_forum(self, channel_id: str, tags: Sequence[str] = (), *, kind: int = 15) -> dict[str, Any]:
        """A forum (15) or media (16) channel with tags a moderator made."""
        available = [self._tag(name) for name in tags]
        return self.add_channel(channel_id, kind, available_tags=available, default_auto_archive_duration=1440)

    def _tag(self, name: str) -> dict[str, Any]:
        return {"id": self.next_id(), "name": name, "moderated": False, "emoji_id": None, "emoji_name": None}

    def forum_threads(self, channel_id: str) -> list[dict[str, Any]]:
        """The posts of forum `channel_id`, oldest first."""
        return [t for t in self.threads if t["parent_id"] == channel_id and t.get("forum")]

    def tag_names(self, channel_id: str, tag_ids: Sequence[str]) -> list[str]:
        names = {t["id"]: t["name"] for t in self.channels[channel_id].get("available_tags", [])}
        return [names[i] for i in tag_ids]

    def archive(self, thread_id: str) -> None:
        """Archive a thread, as Discord does after its auto-archive duration."""
        for thread in self.threads:
            if thread["id"] == thread_id:
                thread["thread_metadata"]["archived"] = True

    def _channel(self, channel_id: str) -> dict[str, Any]:
        return self.channels.get(channel_id) or {
            "id": channel_id,
            "type": 0,
            "guild_id": GUILD_ID,
            "name": f"channel-{channel_id}",
            "position": 0,
            "permission_overwrites": [],
            "parent_id": None,
            "nsfw": False,
            "flags": 0,
            "last_message_id": None,
        }

    async def _get_channel(self, request: web.Request) -> web.Response:
        limited = self._global_limited()
        if limited is not None:
            return limited
        channel = request.match_info["channel"]
        if channel in self.knobs.permanent:
            status, code, message = self.knobs.permanent[channel]
            return _error(status, code, message)
        thread = next((t for t in self.threads if t["id"] == channel), None)
        if thread is not None:
            return _json({k: v for k, v in thread.items() if k not in ("from_message", "channel", "forum")})
        return _json(self._channel(channel))

    async def _edit_channel(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel"]
        body = await request.json()
        if channel_id in self.knobs.no_manage_channels:
            return _error(403, 50013, "Missing Permissions")
        channel = self.channels.get(channel_id)
        if channel is None or channel["type"] not in FORUM_TYPES:
            return _json(self._channel(channel_id))
        if "available_tags" in body:
            tags = body["available_tags"]
            problems = [f"tag name {t.get('name')!r} > {TAG_NAME_LIMIT}" for t in tags if len(t.get("name") or "") > 20]
            if len(tags) > FORUM_TAG_LIMIT:
                problems.append(f"available_tags: {len(tags)} > {FORUM_TAG_LIMIT}")
            if problems:
                self.rejected.append((channel_id, problems))
                return _error(400, 50035, "Invalid Form Body", errors=problems)
            channel["available_tags"] = [
                {**self._tag(t["name"]), **({"id": str(t["id"])} if t.get("id") else {})} for t in tags
            ]
        return _json(channel)

    async def _forum_post(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/threads: in a forum or media channel, a post (a thread with its first message)."""
        limited = self._global_limited()
        if limited is not None:
            return limited
        fault, failed = await self._chaos(request, "post")
        if failed is not None:
            return failed
        return await self._after(request, fault, await self._create_forum_post(request))

    async def _create_forum_post(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel"]
        if channel_id in self.knobs.permanent:
            status, code, message = self.knobs.permanent[channel_id]
            return _error(status, code, message)
        channel = self._channel(channel_id)
        if channel_id in self.knobs.no_send_messages:
            return _error(403, 50013, "Missing Permissions")
        if channel["type"] not in FORUM_TYPES:
            return _error(400, 50024, "Cannot execute action on this channel type")
        body = await request.json()
        message = body.get("message") or {}
        name = str(body.get("name") or "")
        applied = [str(t) for t in body.get("applied_tags") or []]
        known = {t["id"] for t in channel.get("available_tags", [])}
        problems = limit_problems(message)
        if not 1 <= len(name) <= THREAD_NAME_LIMIT:
            problems.append(f"name: {len(name)} characters, not 1..{THREAD_NAME_LIMIT}")
        if len(applied) > APPLIED_TAG_LIMIT:
            problems.append(f"applied_tags: {len(applied)} > {APPLIED_TAG_LIMIT}")
        if any(t not in known for t in applied):
            problems.append("applied_tags: a tag this forum does not have")
        if int(channel.get("flags") or 0) & REQUIRE_TAG and not applied and not problems:
            return _error(400, 40067, "A tag is required to create a forum post in this channel")
        if problems:
            self.rejected.append((channel_id, problems))
            return _error(400, 50035, "Invalid Form Body", errors=problems)
        limit, window = self.forum_bucket
        now = monotonic_time.monotonic()
        recent = self._forum_posts.setdefault(channel_id, collections.deque())
        while recent and now - recent[0] >= window:
            recent.popleft()
        if len(recent) >= limit:
            self.forum_429s += 1
            wait = round(recent[0] + window - now, 3)
            body = {"message": "You are being rate limited.", "retry_after": wait, "global": False}
            return _json(body, status=429, headers={"Via": "1.1 google", **self._bucket(channel_id, 0, wait)})
        recent.append(now)
        reset = round(recent[0] + window - now, 3)
        bucket = self._bucket(channel_id, limit - len(recent), reset)
        # As on Discord: the post (a thread) and its starter message share one id.
        thread_id = self.next_id()
        starter = self._message(thread_id, message, thread_id)
        self.messages.setdefault(thread_id, []).append(starter)
        self.posted.append(Posted(thread_id, thread_id, message, "forum"))
        self.events.append(f"forum:{channel_id}")
        thread = {
            "id": thread_id,
            "type": 11,
            "guild_id": GUILD_ID,
            "parent_id": channel_id,
            "name": name,
            "owner_id": BOT_ID,
            "message_count": 0,
            "member_count": 1,
            "applied_tags": applied,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": int(body.get("auto_archive_duration") or 4320),
                "locked": False,
                "archive_timestamp": _TIMESTAMP,
            },
        }
        self.threads.append({"forum": True, "channel": channel_id, **thread})
        return _json({**thread, "message": starter}, headers=bucket)

    def _bucket(self, channel_id: str, remaining: int, reset_after: float) -> dict[str, str]:
        """X-RateLimit-* of a forum's post bucket: discord.py paces the next post by them."""
        return {
            "X-RateLimit-Limit": str(self.forum_bucket[0]),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset-After": str(max(reset_after, 0.001)),
            "X-RateLimit-Bucket": f"forum-{channel_id}",
            "X-RateLimit-Scope": "user",
        }

    def _thread_payload(self, thread: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in thread.items() if k not in ("from_message", "channel", "forum")}

    async def _active_threads(self, request: web.Request) -> web.Response:
        limited = self._global_limited()
        if limited is not None:
            return limited
        fault, failed = await self._chaos(request, "history")
        if failed is not None:
            return failed
        active = [self._thread_payload(t) for t in self.threads if not t["thread_metadata"]["archived"]]
        return await self._after(request, fault, _json({"threads": active, "members": []}))

    async def _archived_threads(self, request: web.Request) -> web.Response:
        """Newest archived first, `before` an ISO timestamp or absent, as Discord pages them."""
        limited = self._global_limited()
        if limited is not None:
            return limited
        channel_id = request.match_info["channel"]
        if channel_id in self.knobs.permanent:
            status, code, message = self.knobs.permanent[channel_id]
            return _error(status, code, message)
        limit = int(request.query.get("limit", "50"))
        archived = [
            self._thread_payload(t)
            for t in reversed(self.threads)
            if t["parent_id"] == channel_id and t["thread_metadata"]["archived"]
        ]
        # Every fake thread has the same archive timestamp: `before` pages by position instead.
        offset = int(request.query.get("before", "0") or 0) if request.query.get("before", "").isdigit() else 0
        page = archived[offset : offset + limit]
        return _json({"threads": page, "members": [], "has_more": offset + limit < len(archived)})

    async def _get_message(self, request: web.Request) -> web.Response:
        limited = self._global_limited()
        if limited is not None:
            return limited
        channel, message_id = request.match_info["channel"], request.match_info["message"]
        for message in self.messages.get(channel, []):
            if message["id"] == message_id:
                return _json({k: v for k, v in message.items() if k != "nonce"})
        return _error(404, 10008, "Unknown Message")

    async def _crosspost(self, request: web.Request) -> web.Response:
        """Publish a message of an announcement channel; at most 10 per hour per channel, as on Discord."""
        limited = self._global_limited()
        if limited is not None:
            return limited
        channel, message_id = request.match_info["channel"], request.match_info["message"]
        if self._channel(channel)["type"] != ANNOUNCEMENT:
            return _error(400, 50024, "Cannot execute action on this channel type")
        message = next((m for m in self.messages.get(channel, []) if m["id"] == message_id), None)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        if int(message["flags"]) & CROSSPOSTED:
            return _error(400, 40033, "This message has already been crossposted.")
        now = monotonic_time.monotonic() + self.crosspost_clock_offset
        recent = self._crossposts.setdefault(channel, collections.deque())
        while recent and now - recent[0] >= self.crosspost_window:
            recent.popleft()
        if len(recent) >= CROSSPOSTS_PER_WINDOW:
            wait = round(recent[0] + self.crosspost_window - now, 3)
            self.events.append(f"429-crosspost:{channel}")
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, round(wait))),
                "X-RateLimit-Limit": str(CROSSPOSTS_PER_WINDOW),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(wait),
                "X-RateLimit-Bucket": f"crosspost-{channel}",
                "X-RateLimit-Scope": "user",
            }
            body = {"message": "You are being rate limited.", "retry_after": wait, "global": False}
            return _json(body, status=429, headers=headers)
        recent.append(now)
        message["flags"] = int(message["flags"]) | CROSSPOSTED
        self.crossposted.append((channel, message_id))
        self.events.append(f"crosspost:{channel}")
        return _json({k: v for k, v in message.items() if k != "nonce"})

    # -------------------------------------------------------------------------------- gateway

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                op = payload.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op == 2:
                    self.identifies.append(payload["d"])
                    await self._ready(ws, payload["d"])
                elif op == 6:
                    await self._dispatch(ws, "RESUMED", {})
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    async def _dispatch(self, ws: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data}))

    async def _ready(self, ws: web.WebSocketResponse, identify: dict[str, Any]) -> None:
        ready = {
            "v": 10,
            "user": bot_user(),
            "guilds": [{"id": g, "unavailable": True} for g in self.guilds],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": APP_ID, "flags": 0},
        }
        if "shard" in identify:
            ready["shard"] = identify["shard"]
        await self._dispatch(ws, "READY", ready)
        for guild in self.guilds:
            await self._dispatch(ws, "GUILD_CREATE", self.guild_payload(guild))

    def guild_payload(self, guild_id: str) -> dict[str, Any]:
        return {
            "id": guild_id,
            "name": "Research",
            "icon": None,
            "owner_id": "1",
            "roles": [
                {
                    "id": guild_id,
                    "name": "@everyone",
                    "permissions": "0",
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "emojis": [],
            "stickers": [],
            "features": [],
            "member_count": 2,
            "members": [],
            "channels": [],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "large": False,
            "unavailable": False,
            "joined_at": _TIMESTAMP,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_flags": 0,
        }

    def forget_nonces(self, *, keep: set[str]) -> None:
        """Forget the nonces of messages other than `keep` (as if those posts never happened, or long ago)."""
        self._nonces = {k: m for k, m in self._nonces.items() if m["id"] in keep}

    async def push_interaction(self, payload: dict[str, Any]) -> None:
        """Deliver an INTERACTION_CREATE to every connected gateway session."""
        assert self._sockets, "no gateway session is connected"
        for ws in list(self._sockets):
            await self._dispatch(ws, "INTERACTION_CREATE", payload)

    async def push_message(
        self, content: str, *, channel_id: str = "333", author_id: str = "444", bot: bool = False, message_id: str = ""
    ) -> str:
        """Deliver a MESSAGE_CREATE (someone posting in a server channel) to every gateway session; its id."""
        assert self._sockets, "no gateway session is connected"
        message_id = message_id or self.next_id()
        payload = {
            "id": message_id,
            "channel_id": channel_id,
            "guild_id": GUILD_ID,
            "author": {
                "id": author_id,
                "username": "ada",
                "global_name": "Ada",
                "discriminator": "0",
                "avatar": None,
                "bot": bot,
            },
            "member": {"roles": [], "joined_at": _TIMESTAMP, "deaf": False, "mute": False, "flags": 0},
            "content": content,
            "timestamp": _TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
        }
        for ws in list(self._sockets):
            await self._dispatch(ws, "MESSAGE_CREATE", payload)
        return message_id

    async def wait_for(self, predicate: Any, within: float = 5.0) -> None:
        """Poll (bounded) until `predicate()` is true; fail the test after `within` seconds."""
        await wait_for(predicate, within)


# ------------------------------------------------------------------------------------ payloads


def member(user_id: str = "444", *, permissions: int = 0, name: str = "alice") -> dict[str, Any]:
    return {
        "user": {
            "id": user_id,
            "username": name,
            "discriminator": "0",
            "global_name": name,
            "avatar": None,
            "bot": False,
            "public_flags": 0,
        },
        "roles": [],
        "joined_at": _TIMESTAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": str(permissions),
    }


_interaction_ids = itertools.count(1_400_000_000_000_000_000)


def _base(
    kind: int, data: dict[str, Any], *, channel_id: str, guild_id: str | None, permissions: int, user_id: str
) -> dict[str, Any]:
    interaction_id = str(next(_interaction_ids))
    payload: dict[str, Any] = {
        "id": interaction_id,
        "application_id": APP_ID,
        "type": kind,
        "token": f"tok-{interaction_id}",
        "version": 1,
        "channel_id": channel_id,
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 10485760,
        "app_permissions": "442368",
        "data": data,
        "authorizing_integration_owners": {"0": guild_id or "0"},
        "context": 0 if guild_id else 1,
        "channel": {
            "id": channel_id,
            "type": 0 if guild_id else 1,
            "name": "papers",
            "position": 0,
            "permission_overwrites": [],
            **({"guild_id": guild_id} if guild_id else {}),
        },
    }
    if guild_id:
        payload["guild_id"] = guild_id
        payload["guild_locale"] = "en-US"
        payload["member"] = member(user_id, permissions=permissions)
    else:
        payload["user"] = member(user_id)["user"]
    return payload


def slash(
    subcommand: str,
    options: dict[str, Any] | None = None,
    *,
    channel_id: str = "333",
    guild_id: str | None = GUILD_ID,
    permissions: int = 0,
    user_id: str = "444",
    command_id: str = "900",
) -> dict[str, Any]:
    """INTERACTION_CREATE for `/papers <subcommand> <options...>`."""
    opts = []
    for name, value in (options or {}).items():
        kind = 4 if isinstance(value, int) and not isinstance(value, bool) else 3
        opts.append({"type": kind, "name": name, "value": value})
    data = {
        "id": command_id,
        "name": "papers",
        "type": 1,
        "options": [{"type": 1, "name": subcommand, "options": opts}],
    }
    return _base(2, data, channel_id=channel_id, guild_id=guild_id, permissions=permissions, user_id=user_id)


def autocomplete(
    subcommand: str,
    option: str,
    current: str,
    *,
    channel_id: str = "333",
    permissions: int = 0,
    command_id: str = "900",
) -> dict[str, Any]:
    data = {
        "id": command_id,
        "name": "papers",
        "type": 1,
        "options": [
            {"type": 1, "name": subcommand, "options": [{"type": 3, "name": option, "value": current, "focused": True}]}
        ],
    }
    return _base(4, data, channel_id=channel_id, guild_id=GUILD_ID, permissions=permissions, user_id="444")


def button(
    custom_id: str, *, channel_id: str = "333", permissions: int = 0, guild_id: str | None = GUILD_ID
) -> dict[str, Any]:
    payload = _base(
        3,
        {"custom_id": custom_id, "component_type": 2},
        channel_id=channel_id,
        guild_id=guild_id,
        permissions=permissions,
        user_id="444",
    )
    payload["message"] = message_object(channel_id, {}, "1234")
    return payload


# ------------------------------------------------------------------------------------ a fake core


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def paper(i: int, title: str | None = None) -> Paper:
    return make_paper(
        f"2403.{i:05d}",
        title=title or f"Paper number {i}",
        summary="An abstract " * 30,
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        upvotes=100 - i,
        numComments=i,
        ai_summary=f"Summary of paper {i}.",
        githubRepo="https://github.com/x/y",
        thumbnail=f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2403.{i:05d}.png",
    )


def listed(i: int) -> ListedPaper:
    p = paper(i)
    return ListedPaper(p, matched=("mixture of experts",), actions=paper_actions(p))


EXPORTED = "@misc{lovelace2024paper,\n  title = {{Paper <@everyone> 1}},\n  eprint = {2403.00001},\n}\n"
"""What the fake core's `export` file holds (BibTeX, with a would-be mention that must stay inert text)."""


class FakeCore(ScriptedCore):
    """Answers invocations with representative semantic messages and records what reached it."""

    def __init__(self) -> None:
        self.delay = 0.0
        super().__init__(self._answer)

    async def _answer(self, inv: CommandInvocation) -> Sequence[Message]:
        if self.delay:
            await asyncio.sleep(self.delay)
        said = words(inv)
        word = said[0] if said else ""
        if word in ("subscribe", "unsubscribe", "digest") and not inv.permission.can_manage_channel:
            return [TextReply(f"Only {inv.permission.who_can} can do that.", private=True, is_error=True)]
        if word in ("top", "today", "search", "similar"):
            papers = tuple(listed(i) for i in range(1, 4))
            private = inv.force_private or word == "similar"
            return [PaperList(heading=f"Results for {' '.join(said)}", papers=papers, more=7, private=private)]
        if word == "share":
            return [PaperCard(paper(1), actions=paper_actions(paper(1)))]
        if word == "export":
            return [ExportFile("paperboy-library.bib", EXPORTED, "3 papers from this channel's library, BibTeX.")]
        if word == "topics":
            topics = (
                TopicSummary(1, "mixture of experts", 4, actions=topic_actions(1)),
                TopicSummary(7, '"model merging" -survey', 2, actions=topic_actions(7)),
            )
            return [TopicList(inv.channel, topics, private=inv.force_private)]
        if word == "status":
            return [
                Status(
                    inv.channel, True, time(9), "UTC", None, None, None, None, (), 10, date(2026, 3, 1), 2, private=True
                )
            ]
        if word == "digest":
            entries = tuple(
                DigestEntry(paper(i), DigestReason.TRENDING, actions=paper_actions(paper(i))) for i in range(1, 13)
            )
            return [Digest(inv.channel, date(2026, 3, 2), entries)]
        if word in ("like", "dislike"):
            return [TextReply(f"Noted: {' '.join(said)}", private=True)]
        return [TextReply(f"ok: {' '.join(said)}")]


def settings_for(fake: FakeDiscord, **extra: object) -> DiscordSettings:
    return DiscordSettings(
        token=SecretStr("fake-token-SECRET"), api_base=fake.api_base, gateway_url=fake.gateway_url, **extra
    )  # type: ignore[arg-type]


class MemoryKV:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.data.get(key)

    async def set(self, key: str, value: str) -> None:
        self.data[key] = value


CHANNEL = ChannelRef.parse("discord:222222222222222222:333")

SPECS = tuple(command_specs())

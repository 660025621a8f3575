"""A loopback fake of the parts of Slack Paperboy talks to, for the real slack_sdk / slack_bolt clients.

Serves the Web API under `/api/<method>` (point `AsyncWebClient(base_url=fake.api_url)` at it), a Socket
Mode WebSocket handed out by `apps.connections.open`, `response_url` endpoints that record `respond()`
payloads, and `oauth.v2.access` for the install flow. It enforces the Block Kit limits Slack enforces and
can be told to fail the next calls of a method (429 with Retry-After, 500) or a channel permanently.

For the reliability tests and benches: `chaos` (tests/fakes/chaos.py) fails a seeded random share of
chat.postMessage / conversations.history calls (429, 5xx, timeouts and dropped connections, before or
after the post is made), and `post_interval` enforces Slack's ~1 message per second per channel with
429 + Retry-After, the way Slack does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

import aiohttp
from aiohttp import WSMsgType, web

from bot.actions import paper_actions, topic_actions
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
from tests.fakes.common import ScriptedCore, paper, serve, wait_for, words
from tests.fakes.common import Served as Listening

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter


@dataclass
class ApiCall:
    method: str
    token: str | None
    args: dict[str, Any]


@dataclass
class Workspace:
    team_id: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    name: str = "Test workspace"


@dataclass
class Failure:
    status: int
    error: str
    retry_after: int | None = None


_PASS = Failure(0, "")  # a queued call that succeeds (see FakeSlack.fail_next's `after`)


@dataclass
class Post:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    token: str | None
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    user: str | None = None  # chat.postEphemeral's target
    at: float = field(default_factory=time.monotonic)  # when the fake accepted it (ts has 1 s resolution)


@dataclass
class SocketSession:
    ws: web.WebSocketResponse
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)


def _block_problems(blocks: list[dict[str, Any]]) -> list[str]:
    """The Block Kit limits Slack rejects with `invalid_blocks`."""
    problems: list[str] = []
    if len(blocks) > 50:
        problems.append(f"must provide an array with no more than 50 items [{len(blocks)}]")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        text = block.get("text") or {}
        if kind == "section":
            if len(text.get("text", "")) > 3000:
                problems.append(f"section text longer than 3000 at blocks[{i}]")
            for f in block.get("fields") or []:
                if len(f.get("text", "")) > 2000:
                    problems.append(f"field longer than 2000 at blocks[{i}]")
        if kind == "header" and len(text.get("text", "")) > 150:
            problems.append(f"header text longer than 150 at blocks[{i}]")
        if kind == "context" and len(block.get("elements") or []) > 10:
            problems.append(f"too many context elements at blocks[{i}]")
        buttons = [block.get("accessory") or {}, *(block.get("elements") or [])]
        for b in buttons:
            if b.get("type") == "overflow" and not 2 <= len(b.get("options") or []) <= 5:
                problems.append(f"an overflow menu holds 2 to 5 options at blocks[{i}]")
            if b.get("type") == "static_select" and not 1 <= len(b.get("options") or []) <= 100:
                problems.append(f"a select menu holds 1 to 100 options at blocks[{i}]")
            if b.get("type") == "button":
                if len(b["text"]["text"]) > 75:
                    problems.append(f"button text longer than 75 at blocks[{i}]")
                if len(b.get("value", "")) > 2000 or len(b.get("action_id", "")) > 255:
                    problems.append(f"button value/action_id too long at blocks[{i}]")
    return problems


_CHAOS_METHODS = frozenset({"chat.postMessage", "conversations.history", "conversations.replies"})


class FakeSlack:
    """Start with `await fake.start()`; stop with `await fake.stop()`."""

    def __init__(self) -> None:
        self.workspaces: dict[str, Workspace] = {}
        self.app_tokens: set[str] = {"xapp-1-test"}
        self.users: dict[str, dict[str, Any]] = {}
        self.oauth_codes: dict[str, Workspace] = {}
        self.calls: list[ApiCall] = []
        self.posts: list[Post] = []
        self.ephemerals: list[Post] = []
        self.home_views: list[tuple[str, dict[str, Any]]] = []
        """views.publish calls: (user id, view)."""
        self.unfurls: list[dict[str, Any]] = []
        """Accepted chat.unfurl calls: their arguments, `unfurls` parsed."""
        self.uploads: dict[str, bytes] = {}
        """Bytes sent to each upload URL files.getUploadURLExternal handed out, by file id."""
        self.files: list[dict[str, Any]] = []
        """Completed uploads (files.completeUploadExternal): channel, comment, and each file's title and bytes."""
        self.responses: list[tuple[str, dict[str, Any]]] = []
        """Replies to commands as the user sees them: POSTed to a response_url, or carried by the ack."""
        self.ack_answers: list[tuple[str, dict[str, Any]]] = []
        """The replies (of `responses`) that came in the ack itself, not through response_url."""
        self._pushed: dict[str, dict[str, Any]] = {}
        self.channel_errors: dict[str, str] = {}
        self.ims: dict[tuple[str, str], str] = {}
        """(team, user) -> the IM ("D...") conversations.open opened between the bot and that user."""
        self.open_errors: dict[str, str] = {}
        """user id -> the error conversations.open answers for that user (e.g. "missing_scope")."""
        self.history_page_size: int | None = None  # cap conversations.history pages to test paging
        self.sessions: list[SocketSession] = []
        self.chaos: Chaos | None = None
        self.post_interval: float | None = None
        """Seconds between two accepted chat.postMessage calls to one channel (None: no limit)."""
        self.rate_limited_posts = 0
        self._last_accepted: dict[str, float] = {}
        self._failures: dict[str, list[Failure]] = {}
        self._ts = 0
        self._app = web.Application()
        self._app.router.add_post("/api/{method}", self._api)
        self._app.router.add_get("/api/{method}", self._api)
        self._app.router.add_post("/response/{hook}", self._response)
        self._app.router.add_post("/upload/{file_id}", self._upload)
        self._app.router.add_get("/socket", self._socket)
        self._served: Listening | None = None
        self.port = 0
        self.add_workspace("T1", "xoxb-t1-token")

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        self._served = await serve(self._app)
        self.port = self._served.port
        return self

    async def stop(self) -> None:
        for s in self.sessions:
            await s.ws.close()
        if self._served is not None:
            await self._served.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        return f"{self.url}api/"

    def response_url(self, name: str = "") -> str:
        return f"{self.url}response/{name or uuid.uuid4().hex}"

    # ---- knobs -----------------------------------------------------------------------------

    def add_workspace(self, team_id: str, token: str) -> Workspace:
        n = len(self.workspaces) + 1
        ws = Workspace(team_id, token, f"UBOT{n}", f"B{n}")
        self.workspaces[token] = ws
        return ws

    def oauth_code(self, code: str, team_id: str, token: str) -> None:
        """Make `oauth.v2.access?code=<code>` install Paperboy in `team_id` with bot token `token`."""
        n = len(self.workspaces) + len(self.oauth_codes) + 1
        self.oauth_codes[code] = Workspace(team_id, token, f"UBOT{n}", f"B{n}")

    def add_user(
        self,
        user_id: str,
        *,
        admin: bool = False,
        owner: bool = False,
        team_id: str = "T1",
        deleted: bool = False,
        bot: bool = False,
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": team_id,
            "name": user_id.lower(),
            "is_admin": admin,
            "is_owner": owner,
            "is_primary_owner": False,
            "deleted": deleted,
            "is_bot": bot,
        }

    def im_of(self, user_id: str, team_id: str = "T1") -> str | None:
        """The IM conversations.open opened with `user_id`, or None when none was opened."""
        return self.ims.get((team_id, user_id))

    def fail_next(
        self, method: str, count: int = 1, *, status: int = 429, retry_after: int | None = 1, after: int = 0
    ) -> None:
        """Fail the next `count` calls of `method`, once `after` more calls of it have succeeded."""
        error = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}.get(status, "fatal_error")
        queue = self._failures.setdefault(method, [])
        queue.extend(_PASS for _ in range(after))
        queue.extend(Failure(status, error, retry_after if status == 429 else None) for _ in range(count))

    def calls_of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    # ---- Socket Mode -------------------------------------------------------------------------

    async def push(self, envelope_type: str, payload: dict[str, Any], *, accepts_response_payload: bool = True) -> str:
        """Send one envelope over the newest WebSocket session; returns its envelope_id."""
        await wait_for(lambda: bool(self.sessions), what="a Socket Mode connection")
        envelope_id = uuid.uuid4().hex
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        self._pushed[envelope_id] = payload
        await self.sessions[-1].ws.send_str(json.dumps(envelope))
        return envelope_id

    async def wait_ack(self, envelope_id: str, within: float = 5.0) -> dict[str, Any]:
        await wait_for(lambda: any(envelope_id in s.acks for s in self.sessions), within, what="an ack")
        return next(s.acks[envelope_id] for s in self.sessions if envelope_id in s.acks)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        session = SocketSession(ws)
        self.sessions.append(session)
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}, "debug_info": {}}
        await ws.send_str(json.dumps(hello))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                data = json.loads(msg.data)
                if "envelope_id" in data:
                    session.acks[data["envelope_id"]] = data
                    pushed = self._pushed.get(data["envelope_id"]) or {}
                    self.take_ack(pushed.get("response_url"), data.get("payload"))
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
        return ws

    # ---- answers in the ack ------------------------------------------------------------------

    def take_ack(self, response_url: object, answer: object) -> None:
        """What Slack does with an ack that carries a message: shows it as the command's reply.

        HTTP tests pass the request's form body (str) or its response_url, and the ack's body as read.
        The reply is filed under the response_url's hook, as if it had been POSTed there.
        """
        if isinstance(response_url, bytes):
            response_url = response_url.decode(errors="replace")
        if isinstance(response_url, str) and "response_url=" in response_url:
            response_url = (parse_qs(response_url).get("response_url") or [""])[0]
        if isinstance(answer, bytes | str):
            try:
                answer = json.loads(answer) if answer else None
            except ValueError:
                return  # a plain-text ack body: not a message
        if not isinstance(answer, dict) or not (answer.get("text") or answer.get("blocks")):
            return
        hook = str(response_url or "").rstrip("/").rsplit("/", 1)[-1]
        self.responses.append((hook, answer))
        self.ack_answers.append((hook, answer))

    # ---- response_url ------------------------------------------------------------------------

    async def _response(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.responses.append((request.match_info["hook"], payload))
        problems = _block_problems(payload.get("blocks") or [])
        if problems:
            return web.Response(status=400, text="invalid_blocks")
        return web.Response(text="ok")

    # ---- Web API -----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else args.get("token")
        self.calls.append(ApiCall(method, token, args))
        queue = self._failures.get(method)
        failure = queue.pop(0) if queue else _PASS
        if failure is not _PASS:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return web.json_response({"ok": False, "error": failure.error}, status=failure.status, headers=headers)
        fault = self.chaos.draw(method) if self.chaos is not None and method in _CHAOS_METHODS else None
        if fault is not None:
            return await self._fail(request, method, token, args, fault)
        limited = self._rate_limited(method, args)
        if limited is not None:
            return limited
        return self._answer(method, token, args, request)

    async def _fail(
        self, request: web.Request, method: str, token: str | None, args: dict[str, Any], fault: Fault
    ) -> web.Response:
        assert self.chaos is not None
        if fault is Fault.RATE_LIMITED:
            # Slack sends whole seconds; slack_sdk parses the header as an int.
            wait = str(round(self.chaos.wait()))
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": wait})
        if fault is Fault.SERVER_ERROR:
            return web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        if fault in (Fault.TIMEOUT_AFTER, Fault.DROP_AFTER):
            answer = self._answer(method, token, args, request)  # processed: the post is made
        else:
            answer = web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        if fault in (Fault.TIMEOUT_BEFORE, Fault.TIMEOUT_AFTER):
            await asyncio.sleep(self.chaos.hang)  # the client gave up meanwhile
            return answer
        transport = request.transport
        if transport is not None:
            transport.close()  # the client sees the connection drop, never the answer
        return answer

    def _rate_limited(self, method: str, args: dict[str, Any]) -> web.Response | None:
        if self.post_interval is None or method != "chat.postMessage":
            return None
        channel = str(args.get("channel", ""))
        now = time.monotonic()
        last = self._last_accepted.get(channel)
        if last is not None and now - last < self.post_interval:
            self.rate_limited_posts += 1
            wait = max(1, math.ceil(self.post_interval - (now - last)))
            headers = {"Retry-After": str(wait)}
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
        self._last_accepted[channel] = now
        return None

    def _answer(self, method: str, token: str | None, args: dict[str, Any], request: web.Request) -> web.Response:
        if method == "apps.connections.open":
            if token not in self.app_tokens:
                return web.json_response({"ok": False, "error": "invalid_auth"})
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"})
        if method == "oauth.v2.access":
            return web.json_response(self._oauth_access(args, request))
        workspace = self.workspaces.get(token or "")
        if workspace is None:
            return web.json_response({"ok": False, "error": "invalid_auth" if token else "not_authed"})
        handler: Callable[[Workspace, dict[str, Any]], dict[str, Any]] | None = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.unfurl": self._unfurl,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "users.info": self._users_info,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.open": self._open,
            "views.publish": self._views_publish,
        }.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response(handler(workspace, args))

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{int(time.time())}.{self._ts:06d}"

    def _auth_test(self, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{ws.team_id.lower()}.slack.com/",
            "team": ws.name,
            "user": "paperboy",
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }

    def _message_problem(self, args: dict[str, Any]) -> dict[str, Any] | None:
        channel = str(args.get("channel", ""))
        if not channel or channel.startswith("@"):
            # Slack retired `@name` channels: a user's IM is named by its "D..." id (conversations.open).
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.channel_errors:
            return {"ok": False, "error": self.channel_errors[channel]}
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        problems = _block_problems(blocks)
        if problems:
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        if not str(args.get("text") or "").strip():
            return {"ok": False, "error": "no_text"}
        if len(str(args["text"])) > 40000:
            return {"ok": False, "error": "msg_too_long"}
        return None

    def _post_message(self, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
        problem = self._message_problem(args)
        if problem:
            return problem
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        post = Post(
            channel=str(args["channel"]),
            ts=self._next_ts(),
            text=str(args["text"]),
            blocks=list(args.get("blocks") or []),
            token=ws.bot_token,
            thread_ts=args.get("thread_ts"),
            metadata=metadata,
        )
        self.posts.append(post)
        return {"ok": True, "channel": post.channel, "ts": post.ts, "message": {"text": post.text, "ts": post.ts}}

    def _views_publish(self, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
        """views.publish as documented: a user and a Home view of at most 100 blocks."""
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        user = str(args.get("user_id") or "")
        if not user:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(view, dict) or view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        blocks = view.get("blocks") or []
        problems = _block_problems(blocks)
        if len(blocks) > 100 or problems:
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        self.home_views.append((user, view))
        return {"ok": True, "view": {"id": f"V{len(self.home_views)}", "type": "home", "blocks": blocks}}

    def _upload_url(self, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self.uploads) + 1:08d}"
        self.uploads[file_id] = b""
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404)
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            field = form.get("file") or next(iter(form.values()), b"")
            data = field.file.read() if hasattr(field, "file") else str(field).encode()
        else:
            data = await request.read()
        self.uploads[file_id] = data
        return web.Response(text="OK - " + str(len(data)))

    def _complete_upload(self, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        if not isinstance(files, list) or not files or any(f.get("id") not in self.uploads for f in files):
            return {"ok": False, "error": "invalid_arguments"}
        if not args.get("channel_id"):
            return {"ok": False, "error": "channel_not_found"}
        done = [{"id": f["id"], "title": f.get("title"), "data": self.uploads[f["id"]]} for f in files]
        self.files.append({"channel": args["channel_id"], "comment": args.get("initial_comment"), "files": done})
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _unfurl(self, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
        """chat.unfurl as Slack checks it: a message (channel + ts, or unfurl_id + source) and valid blocks."""
        unfurls = args.get("unfurls")
        if isinstance(unfurls, str):
            unfurls = json.loads(unfurls)
        if not isinstance(unfurls, dict) or not unfurls:
            return {"ok": False, "error": "invalid_unfurls"}
        if not ((args.get("channel") and args.get("ts")) or (args.get("unfurl_id") and args.get("source"))):
            return {"ok": False, "error": "cannot_find_message"}
        for unfurl in unfurls.values():
            problems = _block_problems(unfurl.get("blocks") or [])
            if problems:
                return {"ok": False, "error": "invalid_blocks", "errors": problems}
        self.unfurls.append({**args, "unfurls": unfurls, "token": ws.bot_token})
        return {"ok": True}

    def _post_ephemeral(self, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
        problem = self._message_problem(args)
        if problem:
            return problem
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        post = Post(
            channel=str(args["channel"]),
            ts=self._next_ts(),
            text=str(args["text"]),
            blocks=list(args.get("blocks") or []),
            token=ws.bot_token,
            user=str(args["user"]),
        )
        self.ephemerals.append(post)
        return {"ok": True, "message_ts": post.ts}

    def _users_info(self, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _open(self, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.open as documented: `users` (comma-separated; one opens a 1:1 IM) or an IM's `channel`.

        Opening the same IM again returns the same id (`already_open`); `return_im` adds the IM object.
        Refusals: user_not_found (not a user of the workspace), user_disabled (deactivated), cannot_dm_bot.
        """
        users = [u for u in str(args.get("users") or "").split(",") if u]
        channel = str(args.get("channel") or "")
        if not users and not channel:
            return {"ok": False, "error": "users_list_not_supplied"}
        if channel:
            owner = next((key for key, im in self.ims.items() if im == channel and key[0] == ws.team_id), None)
            if owner is None:
                return {"ok": False, "error": "channel_not_found"}
            users = [owner[1]]
        if len(users) > 8:
            return {"ok": False, "error": "too_many_users"}
        if len(users) > 1:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}  # the fake opens no group DMs
        [user_id] = users
        if user_id in self.open_errors:
            return {"ok": False, "error": self.open_errors[user_id]}
        if user_id == ws.bot_user_id:
            return {"ok": False, "error": "cannot_dm_bot"}
        user = self.users.get(user_id)
        if user is None or user.get("team_id") != ws.team_id:
            return {"ok": False, "error": "user_not_found"}
        if user.get("deleted"):
            return {"ok": False, "error": "user_disabled"}
        if user.get("is_bot"):
            return {"ok": False, "error": "cannot_dm_bot"}
        key = (ws.team_id, user_id)
        already = key in self.ims
        im_id = self.ims.setdefault(key, f"D{len(self.ims) + 1:08d}")
        answer: dict[str, Any] = {"ok": True, "channel": {"id": im_id}}
        if already:
            answer |= {"no_op": True, "already_open": True}
        if str(args.get("return_im", "")).lower() in ("1", "true"):
            answer["channel"] |= {"created": 1460147748, "is_im": True, "is_org_shared": False, "user": user_id}
        return answer

    def _history(self, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        if channel.startswith("@"):
            return {"ok": False, "error": "channel_not_found"}  # not a conversation id
        if channel in self.channel_errors:
            return {"ok": False, "error": self.channel_errors[channel]}
        oldest = float(args.get("oldest") or 0)
        # Only channel-level messages, newest first, like Slack.
        found = [p for p in self.posts if p.channel == channel and p.thread_ts is None and float(p.ts) > oldest]
        found.sort(key=lambda p: float(p.ts), reverse=True)
        return self._page(ws, found, args)

    def _replies(self, ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
        """The thread of `ts`: the parent first, then its replies oldest first (as Slack orders them)."""
        channel = str(args.get("channel", ""))
        if channel in self.channel_errors:
            return {"ok": False, "error": self.channel_errors[channel]}
        if channel.startswith("@"):
            return {"ok": False, "error": "channel_not_found"}
        parent = str(args.get("ts", ""))
        thread = [p for p in self.posts if p.channel == channel and (p.ts == parent or p.thread_ts == parent)]
        if not any(p.ts == parent for p in thread):
            return {"ok": False, "error": "thread_not_found"}
        thread.sort(key=lambda p: (p.thread_ts is not None, float(p.ts)))
        return self._page(ws, thread, args)

    def _page(self, ws: Workspace, found: list[Post], args: dict[str, Any]) -> dict[str, Any]:
        """One page of `found` as conversations.history / .replies answer it (cursor, limit, metadata)."""
        limit = min(int(args.get("limit") or 100), 999, self.history_page_size or 999)
        include_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        start = int(args.get("cursor") or 0)
        messages = []
        for p in found[start : start + limit]:
            m: dict[str, Any] = {"type": "message", "ts": p.ts, "text": p.text, "bot_id": ws.bot_id}
            if p.thread_ts is not None:
                m["thread_ts"] = p.thread_ts
            if include_metadata and p.metadata:
                m["metadata"] = p.metadata
            messages.append(m)
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _oauth_access(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        ws = self.oauth_codes.pop(str(args.get("code", "")), None)
        if ws is None:
            return {"ok": False, "error": "invalid_code"}
        self.workspaces[ws.bot_token] = ws
        return {
            "ok": True,
            "app_id": "A1",
            "authed_user": {"id": "UINSTALLER"},
            "scope": "commands,chat:write,app_mentions:read,channels:history,groups:history,users:read",
            "token_type": "bot",
            "access_token": ws.bot_token,
            "bot_user_id": ws.bot_user_id,
            "team": {"id": ws.team_id, "name": ws.name},
            "enterprise": None,
            "is_enterprise_install": False,
        }


def signed_headers(secret: str, body: str | bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signing: `v0=` + HMAC-SHA256(secret, `v0:<timestamp>:<body>`)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


# ---------------------------------------------------------------------------------------------
# Scenario helpers for the Slack contract tests: payloads Slack sends, a small fake core, a served app.
# (Kept here, not in a conftest, so tests import them by package path under any pytest import mode.)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SECRET_KEY = "x1Jx9Xb3oQe6rWlYq3V5o6PIT9i0b5M8nS1bYg2rT0E="
"""A Fernet key (PAPERBOY_SECRET_KEY) for the tests' multi-workspace installs."""
FORM = "application/x-www-form-urlencoded"
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def make_paper(i: int) -> Paper:
    return paper(
        f"2411.{10000 + i}",
        title=f"Paper number {i}: scaling <b>mixture</b> of experts & friends",
        summary="We study things. " * 80,
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        upvotes=100 - i,
        numComments=i,
        githubRepo="https://github.com/example/repo",
    )


def digest(n: int, *, private: bool = False, delivery_id: str | None = None, channel: str = "C1") -> Digest:
    entries = tuple(
        DigestEntry(make_paper(i), DigestReason.TRENDING, actions=paper_actions(make_paper(i))) for i in range(n)
    )
    ref = ChannelRef.parse(f"slack:T1:{channel}")
    return Digest(ref, date(2026, 11, 27), entries, private=private, delivery_id=delivery_id)


def listed(i: int) -> ListedPaper:
    p = make_paper(i)
    return ListedPaper(p, actions=paper_actions(p))


EXPORTED = "@misc{lovelace2024paper,\n  title = {{Paper 1}},\n  eprint = {2411.10001},\n}\n"
"""What the fake core's `export` file holds."""


class FakeCore(ScriptedCore):
    """A core that answers a handful of subcommands with representative semantic messages."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        super().__init__(self._answer)

    async def _answer(self, inv: CommandInvocation) -> Sequence[Message]:
        word, *rest = words(inv) or [""]
        arg = " ".join(rest)
        if word == "today":
            papers = tuple(listed(i) for i in range(3))
            return [PaperList("Top papers of Thu 27 Nov", papers, note="Daily Papers of Thu 27 Nov", more=7)]
        if word == "paper":
            return [PaperCard(make_paper(1), actions=paper_actions(make_paper(1)))]
        if word == "similar":
            return [PaperList(f"Papers like {arg}", (listed(2),), private=True)]
        if word == "export":
            return [ExportFile("paperboy-library.bib", EXPORTED, "3 papers from this channel's library, BibTeX.")]
        if word == "digest" and arg == "preview":
            return [digest(4, private=True)]
        if word == "digest" and arg == "big":
            return [digest(25)]
        if word == "topics":
            return [TopicList(inv.channel, (TopicSummary(7, "mixture of experts", 3, actions=topic_actions(7)),))]
        if word == "status":
            return [Status(inv.channel, True, dtime(9), "UTC", None, None, None, None, (), 10, date(2026, 11, 27), 1)]
        if word in ("like", "dislike"):
            return [TextReply(f"Noted: {word} {arg}", private=True)]
        if word == "unsubscribe":
            return [TextReply(f"Removed topic #{arg}.")]
        if word == "subscribe":
            return [TextReply(f"manage={inv.permission.can_manage_channel} ({inv.permission.who_can})")]
        if word == "slow":
            await asyncio.wait_for(self.release.wait(), timeout=10)
            return [TextReply("finally")]
        if word == "twice":
            return [TextReply("first"), TextReply("second")]
        if word == "boom":
            raise RuntimeError("token xoxb-secret leaked?")
        return [TextReply(f"Unknown subcommand {word!r}", private=True, is_error=True)]


@dataclass
class Served:
    adapter: SlackAdapter
    url: str
    session: aiohttp.ClientSession
    fake: FakeSlack

    async def post(
        self, body: str, *, content_type: str, headers: dict[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        hdrs = {"Content-Type": content_type, **(signed_headers(SECRET, body) if headers is None else headers)}
        async with self.session.post(self.url + "slack/events", data=body.encode(), headers=hdrs) as resp:
            self.fake.take_ack(body, await resp.read())
            return resp


async def serve_app(app: web.Application) -> tuple[web.AppRunner, str]:
    served = await serve(app)
    return served.runner, served.url


ServeFactory = Callable[..., Awaitable[Served]]


def slash_body(
    fake: FakeSlack, text: str, *, team: str = "T1", channel: str = "C1", user: str = "U1"
) -> dict[str, str]:
    return {
        "token": "verification_token",
        "team_id": team,
        "team_domain": "test-domain",
        "channel_id": channel,
        "channel_name": "random",
        "user_id": user,
        "user_name": "primary-owner",
        "command": "/papers",
        "text": text,
        "api_app_id": "A1",
        "response_url": fake.response_url(f"{team}-{channel}-{text.replace(' ', '_')}"),
        "trigger_id": f"111.111.{uuid.uuid4().hex}",  # one per invocation, as Slack makes them
    }


def form(body: dict[str, str]) -> str:
    return urlencode(body)


def mention_event(
    text: str, *, team: str = "T1", channel: str = "C1", user: str = "U1", event_id: str | None = None
) -> dict[str, Any]:
    """An app_mention delivery; each gets its own event id (Slack's retries of one share it)."""
    return {
        "token": "verification_token",
        "team_id": team,
        "api_app_id": "A1",
        "event": {
            "type": "app_mention",
            "user": user,
            "text": f"<@UBOT1> {text}",
            "ts": "1515449522.000016",
            "channel": channel,
            "event_ts": "1515449522.000016",
        },
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": 1515449522,
        "authorizations": [{"team_id": team, "user_id": "UBOT1", "is_bot": True, "enterprise_id": None}],
    }


def im_event(
    text: str, *, team: str = "T1", channel: str = "D1", user: str = "U1", bot: bool = False
) -> dict[str, Any]:
    """A message.im delivery: someone typed in Paperboy's Messages tab (or, `bot`, Paperboy's own reply)."""
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": "1515449522.000017",
        "event_ts": "1515449522.000017",
        "channel_type": "im",
    }
    if bot:
        event |= {"bot_id": "B1", "subtype": "bot_message"}
    return {
        "token": "verification_token",
        "team_id": team,
        "api_app_id": "A1",
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": 1515449522,
        "authorizations": [{"team_id": team, "user_id": "UBOT1", "is_bot": True, "enterprise_id": None}],
    }


def home_opened_event(*, team: str = "T1", user: str = "U1", tab: str = "home") -> dict[str, Any]:
    """An app_home_opened delivery, as Slack sends it when a user opens Paperboy's Home tab."""
    return {
        "token": "verification_token",
        "team_id": team,
        "api_app_id": "A1",
        "event": {"type": "app_home_opened", "user": user, "channel": "D1", "tab": tab, "event_ts": "1515449522.0"},
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": 1515449522,
        "authorizations": [{"team_id": team, "user_id": "UBOT1", "is_bot": True, "enterprise_id": None}],
    }


def link_shared_event(
    urls: list[str],
    *,
    team: str = "T1",
    channel: str = "C1",
    user: str = "U1",
    source: str = "conversations_history",
    member: bool = True,
) -> dict[str, Any]:
    """A link_shared delivery (Slack's documented shape) for links posted in `channel`."""
    return {
        "token": "verification_token",
        "team_id": team,
        "api_app_id": "A1",
        "event": {
            "type": "link_shared",
            "channel": "COMPOSER" if source == "composer" else channel,
            "is_bot_user_member": member,
            "user": user,
            "message_ts": "1515449600.000100" if source != "composer" else "U1-909b5454-75f8-4ac4-b325-1b40e230bbd8",
            "unfurl_id": "C1.1515449600.000100.9f8b2ccb",
            "thread_ts": None,
            "source": source,
            "links": [{"domain": url.split("/")[2], "url": url} for url in urls],
            "event_ts": "1515449600.000200",
        },
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": 1515449600,
        "authorizations": [{"team_id": team, "user_id": "UBOT1", "is_bot": True, "enterprise_id": None}],
    }


def action_payload(
    fake: FakeSlack, action_id: str, value: str, *, team: str = "T1", channel: str = "C1"
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": team, "domain": "example"},
        "user": {"id": "U1", "username": "ada", "team_id": team},
        "api_app_id": "A1",
        "token": "verification_token",
        "container": {"type": "message", "message_ts": "1548261231.000200", "channel_id": channel},
        "trigger_id": f"12321423423.{uuid.uuid4().hex}",
        "channel": {"id": channel, "name": "papers"},
        "message": {"type": "message", "ts": "1548261231.000200", "text": "papers"},
        "response_url": fake.response_url(f"action-{value}"),
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "More like this"},
                "value": value,
                "type": "button",
                "action_ts": "1548426417.840180",
            }
        ],
    }


def overflow_payload(fake: FakeSlack, menu: dict[str, Any], chosen: str, **where: str) -> dict[str, Any]:
    """A press of one option (`chosen`, its value) of a rendered overflow menu, as Slack sends it."""
    option = next(o for o in menu["options"] if o["value"] == chosen)
    payload = action_payload(fake, menu["action_id"], chosen, **where)
    payload["actions"] = [
        {
            "action_id": menu["action_id"],
            "block_id": "b1",
            "selected_option": option,
            "type": "overflow",
            "action_ts": "1548426417.840180",
        }
    ]
    return payload


def action_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def home_action_payload(
    view: dict[str, Any], button: dict[str, Any], *, team: str = "T1", user: str = "U1", view_id: str = "V1"
) -> dict[str, Any]:
    """A press of `button` (a rendered button element) on the Home tab `view`, as Slack sends it: the view
    and a `view` container, and no channel or response_url (a Home tab is no conversation)."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "ada", "name": "ada", "team_id": team},
        "api_app_id": "A1",
        "token": "verification_token",
        "container": {"type": "view", "view_id": view_id},
        "trigger_id": f"12321423423.{uuid.uuid4().hex}",
        "team": {"id": team, "domain": "example"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {
            "id": view_id,
            "team_id": team,
            "type": "home",
            "blocks": view.get("blocks") or [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": "1548426417.840180",
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": "A1",
            "external_id": "",
            "app_installed_team_id": team,
            "bot_id": "B1",
        },
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": "b1",
                "text": button["text"],
                "value": button.get("value", ""),
                "type": "button",
                "action_ts": "1548426417.840180",
                **({"style": button["style"]} if "style" in button else {}),
            }
        ],
    }

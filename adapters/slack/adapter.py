"""Paperboy on Slack: a Bolt `AsyncApp` in Socket Mode or HTTP mode (optionally multi-workspace OAuth).

Inbound: `/papers ...`, `@Paperboy ...` and Paperboy's buttons are translated to a `CommandInvocation`
(translate.py), run by the core in a task, and the replies rendered (render.py) and delivered: private
ones as ephemerals, public ones in the channel. A slash command's reply that is ready within
`ACK_ANSWER_BUDGET` rides in the ack itself (ack.py); a slower one, and buttons, are acknowledged empty and
answered through `response_url`. In HTTP mode a request is read strictly
first (inbound.py: headers, signature, body, shape; 400 for a malformed one, 200 for one not for
Paperboy), and each is taken once: a replayed signature or a retried event id (the inbound log, shared by
the replicas) is acknowledged and dropped. Outbound (`send`): chat.postMessage with
a delivery marker in message metadata, thread replies for long digests, Slack errors mapped to
Retryable/PermanentDeliveryError. A person's direct messages (`ChannelRef.dm`, where their follows go)
are their IM with Paperboy, opened with conversations.open and remembered.

The Home tab shows the person's follows and latest matches (the core's `following`) with an Unfollow
button each; a button pressed there runs as the person's direct-message command and the tab is
published again.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.slack import inbound, translate
from adapters.slack.ack import ACK_ANSWER_BUDGET, AckAnswer
from adapters.slack.installations import SealedInstallationStore, TokenTables, seal_stored
from adapters.slack.manifest import BOT_SCOPES
from adapters.slack.render import SlackPost, delivery_marker, marker_position, render, render_home
from bot import actions as codec
from bot.clock import Clock
from bot.config import SlackPermissionRule, SlackSettings
from bot.crypto import SecretBox
from bot.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.inbound import MemoryInboundLog
from bot.ports import CommandPort, InboundLog, PartRecorder, SentMessage
from bot.types import (
    ChannelRef,
    CommandInvocation,
    ExportFile,
    Message,
    PaperCard,
    Permission,
    Platform,
    TextReply,
    UserRef,
)

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"

PERMISSION_CACHE_TTL = timedelta(seconds=60)
HISTORY_PAGES = 5
# Seconds for one Web API call; a hung call must not hold a delivery (or its channel lock) for minutes.
REQUEST_TIMEOUT = 15

# Slack error codes after which posting to the channel again cannot succeed without a human.
_PERMANENT = {
    "channel_not_found": "the channel was not found (deleted, or Paperboy cannot see it)",
    "not_in_channel": "Paperboy is not a member of the channel",
    "is_archived": "the channel was archived",
    "account_inactive": "the Paperboy bot user was deactivated",
    "token_revoked": "Paperboy's token was revoked",
    "token_expired": "Paperboy's token expired",
    "invalid_auth": "Paperboy's token is not valid",
    "not_authed": "Paperboy has no token for this workspace",
    "missing_scope": "Paperboy lacks a permission (scope) it needs",
    "team_not_found": "the workspace was not found",
    "team_access_not_granted": "Paperboy has no access to the workspace",
    "ekm_access_denied": "the workspace's key management denied access",
    "restricted_action": "the workspace does not allow Paperboy to post there",
    "restricted_action_read_only_channel": "the channel is read-only",
    "channel_is_archived": "the channel was archived",
    "access_denied": "Slack denied access",
}
# conversations.open errors about the person: opening their direct message cannot succeed until they (or an
# admin) change something. The reason is what the person reads when the core pauses their follows.
_DM_REFUSALS = {
    "user_not_found": "",
    "user_disabled": " (your Slack account is deactivated)",
    "user_not_visible": " (Paperboy is not allowed to see your Slack account)",
    "cannot_dm_bot": " (this account is a bot)",
    "invalid_user_combination": " (Paperboy and your account share no channel)",
    "not_allowed_token_type": " (Paperboy's token cannot open direct messages)",
    "missing_scope": " (Paperboy needs the im:write permission: a workspace admin can reinstall the app)",
    "method_not_supported_for_channel_type": "",
    "channel_not_found": "",
    "users_list_not_supplied": "",
}
DM_CACHE_SIZE = 10_000
"""How many (workspace, user) -> IM channel ids are remembered; the oldest unused go first."""
_RETRYABLE = {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}

ROUTED = "paperboy_routed"
"""Bolt context key of a request `_handle_events` has routed and taken once already."""
SIGNATURE_SOURCE = "slack:signature"
EVENT_SOURCE = "slack:event"

Handler = Callable[..., Awaitable[None]]
WorkspaceRemoved = Callable[[str], Awaitable[None]]


def _secret(value: Any) -> str | None:
    return None if value is None else str(value.get_secret_value())


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            if isinstance(value, list):
                return str(value[0]) if value else None
            return str(value)
    return None


def delivery_error(exc: Exception, channel: ChannelRef) -> RetryableDeliveryError | PermanentDeliveryError:
    """Map a Slack client failure to the core's delivery errors. Reasons never contain secrets."""
    if isinstance(exc, SlackApiError):
        status = int(getattr(exc.response, "status_code", 200) or 200)
        error = str(exc.response.get("error") or f"http_{status}")
        if status == 429 or error in ("ratelimited", "rate_limited"):
            retry_after = _header(exc.response.headers or {}, "Retry-After")
            try:
                wait = float(retry_after) if retry_after is not None else None
            except ValueError:
                wait = None
            return RetryableDeliveryError(f"Slack rate-limited posting to {channel} ({error})", wait)
        if status >= 500 or error in _RETRYABLE:
            return RetryableDeliveryError(f"Slack had a server error ({error}, HTTP {status})")
        if error in _PERMANENT:
            return PermanentDeliveryError(f"Slack says {_PERMANENT[error]} ({error})")
        # invalid_blocks, msg_too_long, ...: Paperboy's own bug; retrying later (after a fix) may help.
        return RetryableDeliveryError(f"Slack rejected the message ({error})")
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return RetryableDeliveryError("Slack did not answer in time (timeout)")
    return RetryableDeliveryError(f"could not reach Slack ({type(exc).__name__})")


def dm_error(exc: Exception, channel: ChannelRef) -> RetryableDeliveryError | PermanentDeliveryError:
    """Map a failed conversations.open (a person's direct message) like other delivery errors, with a
    reason the person can act on when Slack refuses the direct message itself."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or "")
        if error in _DM_REFUSALS:
            return PermanentDeliveryError(
                f"Slack would not open a direct message with you: {error}{_DM_REFUSALS[error]}"
            )
    return delivery_error(exc, channel)


class SlackAdapter:
    """One Slack app connection (one workspace with a bot token, or many through OAuth installs)."""

    def __init__(
        self,
        settings: SlackSettings,
        *,
        web_app: web.Application | None,
        clock: Clock,
        installation_db_url: str | None = None,
        on_workspace_removed: WorkspaceRemoved | None = None,
        min_post_interval: float = 1.0,
        request_timeout: float = REQUEST_TIMEOUT,
        inbound_log: InboundLog | None = None,
        secrets: SecretBox | None = None,
        ack_answer_budget: float = ACK_ANSWER_BUDGET,
    ) -> None:
        self._settings = settings
        self._ack_answer_budget = ack_answer_budget
        # Which requests and events were taken already, shared by the replicas (the database) in production.
        self._inbound = inbound_log or MemoryInboundLog()
        self._secrets = secrets
        self._clock = clock
        self._on_workspace_removed = on_workspace_removed
        self._min_post_interval = min_post_interval
        self._core: CommandPort | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._permission_cache: dict[tuple[str, str], tuple[Permission, datetime]] = {}
        self._channel_locks: dict[str, asyncio.Lock] = {}
        self._last_post: dict[str, float] = {}
        self._ims: collections.OrderedDict[tuple[str, str], str] = collections.OrderedDict()
        """(workspace, user) -> the id ("D...") of the user's IM with Paperboy (conversations.open)."""
        self._socket: AsyncSocketModeHandler | None = None
        self._engine: AsyncEngine | None = None
        self._installations: SealedInstallationStore | None = None
        self._states: AsyncSQLAlchemyOAuthStateStore | None = None
        self._verifier: SignatureVerifier | None = None
        self._session: aiohttp.ClientSession | None = None
        self._request_timeout = request_timeout

        bot_token = None if settings.oauth else _secret(settings.bot_token)
        self._client = AsyncWebClient(
            token=bot_token,
            base_url=settings.api_url,
            timeout=int(request_timeout),
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(max_retry_count=1),
                AsyncRateLimitErrorRetryHandler(max_retry_count=2),
                AsyncServerErrorRetryHandler(max_retry_count=2),
            ],
        )
        # Digest posts retry only what certainly did not post (429). A dropped connection or a 5xx may
        # come after Slack posted; the Deliverer then looks for the delivery's marker before posting
        # again, which a retry inside slack_sdk would skip (the chaos test caught that duplicate).
        self._delivery_client = AsyncWebClient(
            token=bot_token,
            base_url=settings.api_url,
            timeout=int(request_timeout),
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
        )
        oauth_settings: AsyncOAuthSettings | None = None
        if settings.oauth:
            if not installation_db_url:
                raise ValueError("Slack OAuth needs installation_db_url (Paperboy's database URL)")
            if secrets is None:
                raise ValueError("Slack OAuth needs a SecretBox: workspace tokens are stored sealed")
            assert settings.client_id is not None
            self._engine = create_async_engine(installation_db_url)
            tables = TokenTables(client_id=settings.client_id, engine=self._engine, logger=logger)
            self._installations = SealedInstallationStore(tables, secrets)
            self._states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=600, engine=self._engine, logger=logger)
            oauth_settings = AsyncOAuthSettings(
                client_id=settings.client_id,
                client_secret=_secret(settings.client_secret),
                scopes=list(BOT_SCOPES),
                installation_store=self._installations,
                state_store=self._states,
                install_path=INSTALL_PATH,
                redirect_uri_path=REDIRECT_PATH,
                install_page_rendering_enabled=False,
            )
        signing_secret = _secret(settings.signing_secret)
        if not settings.socket_mode:
            if web_app is None:
                raise ValueError("Slack HTTP mode needs the aiohttp web_app to mount /slack/events on")
            if not signing_secret:
                raise ValueError("Slack HTTP mode needs a signing secret")
            self._verifier = SignatureVerifier(signing_secret)
        self.app = AsyncApp(
            client=self._client,
            signing_secret=signing_secret or "unused-in-socket-mode",
            oauth_settings=oauth_settings,
            installation_store=self._installations,
            request_verification_enabled=not settings.socket_mode,
            process_before_response=False,
            logger=logging.getLogger("adapters.slack.bolt"),
        )
        self._register_listeners()
        if web_app is not None and not settings.socket_mode:
            web_app.router.add_post(EVENTS_PATH, self._handle_events)
            if oauth_settings is not None:
                web_app.router.add_get(INSTALL_PATH, self._handle_install)
                web_app.router.add_get(REDIRECT_PATH, self._handle_oauth_redirect)

    # ---- ChatAdapter -------------------------------------------------------------------------

    @property
    def platform(self) -> Platform:
        return Platform.SLACK

    @property
    def connected(self) -> bool:
        """Started (HTTP mode serves from then on) and, in Socket Mode, the WebSocket is open."""
        if self._core is None:
            return False
        if self._socket is None:
            return not self._settings.socket_mode
        client = self._socket.client
        return not getattr(client, "closed", False)

    async def start(self, core: CommandPort) -> None:
        self._core = core
        try:
            await self._start()
        except BaseException:
            await self.stop()  # a start that fails (a wrong secret key, no Socket Mode) leaves nothing open
            raise

    async def _start(self) -> None:
        if self._session is None:
            # slack_sdk applies its own timeout only to sessions it creates: give the shared one a limit.
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._request_timeout))
            self._client.session = self._session
            self._delivery_client.session = self._session
        if self._installations is not None and self._states is not None and self._engine is not None:
            assert self._secrets is not None
            await self._installations.tables.create_tables()  # type: ignore[no-untyped-call]
            await self._states.create_tables()  # type: ignore[no-untyped-call]
            # Fails start (SecretKeyError) when the key does not open the stored tokens; seals plain ones.
            done = await seal_stored(self._engine, self._secrets)
            if done.sealed:
                logger.info("slack: sealed %d workspace token(s) stored before encryption", done.sealed)
        if self._settings.socket_mode:
            app_token = _secret(self._settings.app_token)
            assert app_token is not None
            self._socket = AsyncSocketModeHandler(self.app, app_token, web_client=self._client)
            await asyncio.wait_for(self._socket.connect_async(), timeout=30)  # type: ignore[no-untyped-call]
            logger.info("slack: connected in Socket Mode")
        else:
            logger.info("slack: serving %s (HTTP mode%s)", EVENTS_PATH, ", OAuth" if self._settings.oauth else "")

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        tasks = list(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._session is not None:
            self._client.session = None
            self._delivery_client.session = None
            await self._session.close()
            self._session = None
        if self._engine is not None:
            await self._engine.dispose()

    async def send(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        delivery_id: str | None = None,
        posted: Mapping[int, str] | None = None,
        on_part: PartRecorder | None = None,
    ) -> SentMessage:
        """chat.postMessage each part not yet `posted`, in order: the channel message, then thread replies.

        Every part of a delivery carries its marker in message metadata (`delivery_id`, `part`), so
        `find_parts` can tell after a crash which landed. The first failing part raises; the parts before
        it have been reported to `on_part`.
        """
        posts = render(message)
        done = dict(posted or {})
        token = await self._token_for(channel)
        conversation = await self._conversation(channel, token)
        for position, post in enumerate(posts):
            if position in done:
                continue
            metadata = delivery_marker(delivery_id, position) if delivery_id is not None else post.metadata
            parent = done.get(0)
            try:
                ts = await self._post(
                    channel,
                    post,
                    token=token,
                    client=self._delivery_client,
                    thread_ts=post.thread_ts or (parent if post.thread else None),
                    metadata=metadata,
                    conversation=conversation,
                )
            except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = delivery_error(exc, channel)
                if isinstance(error, PermanentDeliveryError):
                    self._forget_im(channel)  # a closed or stale IM: the next attempt opens it again
                logger.warning(
                    "slack: delivery %s to %s: part %d of %d failed: %s",
                    delivery_id,
                    channel,
                    position + 1,
                    len(posts),
                    error.reason,
                )
                raise error from None
            done[position] = ts
            if on_part is not None:
                await on_part(position, ts)
        ids = [done[p] for p in sorted(done)]
        return SentMessage(ids[0], tuple(ids[1:]))

    async def find_parts(
        self,
        channel: ChannelRef,
        delivery_id: str,
        since: datetime,
        posted: Mapping[int, str],
        *,
        under: str | None = None,
    ) -> dict[int, str]:
        """The parts of a delivery in the channel (conversations.history) and its thread (.replies); for
        one posted in the thread of `under` (a follow-up), in that thread."""
        token = await self._token_for(channel)
        if channel.dm_user is not None:
            channel = ChannelRef(channel.platform, channel.workspace_id, await self._conversation(channel, token))
        if under is not None:
            return await self._find_in_replies(channel, token, under, delivery_id, first=0)
        top = posted.get(0) or await self._find_in_history(channel, token, delivery_id, since)
        if top is None:
            return {}
        return {0: top} | await self._find_in_replies(channel, token, top, delivery_id, first=1)

    async def _conversation(self, channel: ChannelRef, token: str | None) -> str:
        """The Slack channel id to post in: the channel's own, or for a person's direct messages
        (`ChannelRef.dm`) the id of their IM with Paperboy, opened once (conversations.open) and remembered."""
        user = channel.dm_user
        if user is None:
            return channel.channel_id
        key = (channel.workspace_id, user)
        known = self._ims.get(key)
        if known is not None:
            self._ims.move_to_end(key)
            return known
        try:
            # Opening an IM that is open already changes nothing: the retrying client may repeat it.
            response = await self._client.conversations_open(token=token, users=user)
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = dm_error(exc, channel)
            logger.warning("slack: conversations.open for %s failed: %s", channel, error.reason)
            raise error from None
        im = response.get("channel")
        im_id = im.get("id") if isinstance(im, Mapping) else None
        if not isinstance(im_id, str) or not im_id:
            raise RetryableDeliveryError("Slack opened the direct message but named no channel")
        self._ims[key] = im_id
        while len(self._ims) > DM_CACHE_SIZE:
            self._ims.popitem(last=False)
        return im_id

    def _forget_im(self, channel: ChannelRef) -> None:
        user = channel.dm_user
        if user is not None:
            self._ims.pop((channel.workspace_id, user), None)

    async def _find_in_replies(
        self, channel: ChannelRef, token: str | None, top: str, delivery_id: str, *, first: int
    ) -> dict[int, str]:
        """The parts from position `first` on found in the thread of `top`."""
        found: dict[int, str] = {}
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            try:
                response = await self._client.conversations_replies(
                    token=token,
                    channel=channel.channel_id,
                    ts=top,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise delivery_error(exc, channel) from None
            for msg in response.get("messages") or []:
                position = marker_position(msg, delivery_id)
                if position is not None and position >= first:
                    found.setdefault(position, str(msg["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or not cursor:
                return found
        logger.warning("slack: find_parts %s in %s read %d pages of replies", delivery_id, channel, HISTORY_PAGES)
        return found

    async def _find_in_history(
        self, channel: ChannelRef, token: str | None, delivery_id: str, since: datetime
    ) -> str | None:
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            try:
                response = await self._client.conversations_history(
                    token=token,
                    channel=channel.channel_id,
                    oldest=f"{since.timestamp():.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise delivery_error(exc, channel) from None
            for msg in response.get("messages") or []:
                if marker_position(msg, delivery_id) == 0:
                    return str(msg["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or not cursor:
                return None
        logger.warning("slack: find_parts %s in %s gave up after %d pages", delivery_id, channel, HISTORY_PAGES)
        return None

    # ---- HTTP endpoints ----------------------------------------------------------------------

    async def _handle_events(self, request: web.Request) -> web.Response:
        """Headers, signature, body and shape, strictly and in that order, before Bolt sees anything."""
        assert self._verifier is not None
        try:
            signed = inbound.signed_headers(request.headers)
        except inbound.Malformed as exc:
            logger.warning("slack: refused a request (400): %s", exc)
            return web.json_response({"error": "malformed request"}, status=400)
        try:
            text = inbound.decode(await request.read())
        except inbound.Malformed as exc:
            logger.warning("slack: refused a request (400): %s", exc)
            return web.json_response({"error": "malformed request"}, status=400)
        if signed is None or not self._verifier.is_valid(
            body=text, timestamp=signed.timestamp, signature=signed.signature
        ):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            body = inbound.parse_body(text, request.content_type)
            where, what = inbound.route(body, self._settings.command)
        except inbound.Malformed as exc:
            logger.warning("slack: refused a signed request (400): %s", exc)
            return web.json_response({"error": "malformed request"}, status=400)
        # A signature covers the timestamp and the body: the same one twice is the same request, replayed.
        if not await self._first_time(SIGNATURE_SOURCE, signed.signature.removeprefix("v0="), what):
            return web.Response(status=200)
        if where is inbound.Route.IGNORE:
            logger.info("slack: acknowledged %s without handling it", what)
            return web.Response(status=200)
        # The body is verified and parsed: Bolt gets it as a value (its "socket_mode" form of request, which
        # skips a second verification), never the raw text, which its own parser misreads (a slash command
        # whose text contains "payload" reads as an empty body).
        event_id = inbound.event_id(body)
        if event_id is not None and not await self._first_time(EVENT_SOURCE, event_id, what):
            return web.Response(status=200)
        bolt_request = AsyncBoltRequest(
            body=body,
            query=request.query_string,
            headers=dict(request.headers),
            context={ROUTED: True},  # `_route_once` has nothing left to do
            mode="socket_mode",
        )
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _first_time(self, source: str, key: str, what: str) -> bool:
        """Whether no replica took this request or event yet; a repeat is logged and acknowledged."""
        try:
            first = await self._inbound.first_time(source, key, now=self._clock.now())
        except Exception as exc:
            # Taking a command twice in an outage beats refusing every command in it.
            logger.warning("slack: inbound log unavailable (%s); taking %s", exc, what)
            return True
        if not first:
            logger.info("slack: %s was already taken (%s %s...); acknowledging the repeat", what, source, key[:12])
        return first

    async def _handle_install(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    async def _handle_oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    # ---- Listeners -----------------------------------------------------------------------------

    def _register_listeners(self) -> None:
        app = self.app
        app.use(self._route_once)
        app.error(self._on_bolt_error)
        app.command(self._settings.command)(self._on_slash)
        app.event("app_mention")(self._on_mention)
        app.action({"type": "block_actions", "action_id": codec.ID_PATTERN})(self._on_action)
        app.event("link_shared")(self._on_link_shared)
        app.event("app_uninstalled")(self._on_app_uninstalled)
        app.event("tokens_revoked")(self._on_tokens_revoked)
        app.event("app_home_opened")(self._on_home_opened)
        app.event("message")(self._on_message)

    async def _route_once(
        self, body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Socket Mode's routing (HTTP mode's is done in `_handle_events`): what is not Paperboy's is
        acknowledged and dropped (never left to Bolt's 404, which Slack retries), and an event is taken
        once, whatever its retries."""
        if context.get(ROUTED):
            await next()
            return None
        try:
            where, what = inbound.route(body, self._settings.command)
        except inbound.Malformed as exc:
            logger.warning("slack: dropped a request: %s", exc)
            return BoltResponse(status=200, body="")
        if where is inbound.Route.IGNORE:
            logger.info("slack: acknowledged %s without handling it", what)
            return BoltResponse(status=200, body="")
        event_id = inbound.event_id(body)
        if event_id is not None and not await self._first_time(EVENT_SOURCE, event_id, what):
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def _on_bolt_error(self, error: Exception) -> BoltResponse:
        # Whatever the strict reading let through and Bolt could not take: one line, not a traceback.
        frame = error.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame is not None else "?"
        logger.warning("slack: could not handle a request: %s: %s (at %s)", type(error).__name__, error, where)
        return BoltResponse(status=400, body="")

    async def _on_slash(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        answer = AckAnswer()
        running = self._spawn(self._run_slash(body, client, answer))
        ready = await answer.decide(self._ack_answer_budget, running)
        if ready is None:
            await ack()
        else:
            post, response_type = ready
            await ack(text=post.text, blocks=post.blocks or None, response_type=response_type)

    async def _on_mention(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        self._spawn(self._run_mention(body, client))

    async def _on_action(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        self._spawn(self._run_action(body, client))

    async def _on_message(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        self._spawn(self._run_direct_message(body, client))

    async def _on_home_opened(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        self._spawn(self._publish_home(body, client))

    async def _on_link_shared(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        self._spawn(self._run_link_shared(body, client))

    async def _on_app_uninstalled(self, body: dict[str, Any]) -> None:
        await self._workspace_removed(translate.workspace_of(body), "app_uninstalled")

    async def _on_tokens_revoked(self, body: dict[str, Any]) -> None:
        tokens = (body.get("event") or {}).get("tokens") or {}
        if tokens.get("bot"):
            await self._workspace_removed(translate.workspace_of(body), "tokens_revoked")

    async def _workspace_removed(self, team_id: str, why: str) -> None:
        logger.info("slack: workspace %s removed Paperboy (%s)", team_id, why)
        if self._installations is not None and team_id:
            await self._installations.async_delete_bot(enterprise_id=None, team_id=team_id)
            await self._installations.async_delete_installation(enterprise_id=None, team_id=team_id)
        self._permission_cache = {k: v for k, v in self._permission_cache.items() if k[0] != team_id}
        if self._on_workspace_removed is not None and team_id:
            await self._on_workspace_removed(team_id)

    # ---- Running commands ----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_slash(self, body: dict[str, Any], client: AsyncWebClient, answer: AckAnswer) -> None:
        target = ReplyTarget(self, client, response_url=body.get("response_url"), ack=answer)
        try:
            permission = await self._permission(client, str(body.get("team_id", "")), str(body.get("user_id", "")))
            invocation = translate.slash_command(body, permission=permission, received_at=self._clock.now())
        except (translate.UnsupportedPayload, SlackClientError) as exc:
            logger.warning("slack: could not take a slash command: %s", exc)
            await target.deliver_private(render(TextReply("Paperboy could not read that command.", True, True)))
            return
        await self._run(invocation, target)

    async def _run_mention(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        event = body.get("event") or {}
        try:
            permission = await self._permission(client, translate.workspace_of(body), str(event.get("user", "")))
            invocation = translate.app_mention(body, permission=permission, received_at=self._clock.now())
        except (translate.UnsupportedPayload, SlackClientError) as exc:
            logger.warning("slack: ignoring an app_mention: %s", exc)
            return
        thread_ts = event.get("thread_ts")
        await self._run(invocation, ReplyTarget(self, client, thread_ts=thread_ts, user_id=invocation.user.user_id))

    async def _run_direct_message(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        event = body.get("event") or {}
        try:
            translate.direct_message(body, permission=Permission(False), received_at=self._clock.now())
        except translate.UnsupportedPayload as exc:
            # Paperboy's own replies come back as message.im too: not a command, not a warning.
            logger.debug("slack: ignoring a message: %s", exc)
            return
        try:
            permission = await self._permission(client, translate.workspace_of(body), str(event.get("user", "")))
            invocation = translate.direct_message(body, permission=permission, received_at=self._clock.now())
        except (translate.UnsupportedPayload, SlackClientError) as exc:
            logger.warning("slack: ignoring a direct message: %s", exc)
            return
        if not invocation.text:
            return
        await self._run(invocation, ReplyTarget(self, client, user_id=str(event.get("user", "")), direct=True))

    async def _publish_home(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        try:
            team_id, user_id = translate.home_opened(body)
        except translate.UnsupportedPayload as exc:
            logger.debug("slack: ignoring app_home_opened: %s", exc)
            return
        await self._publish_home_for(client, team_id, user_id)

    async def _publish_home_for(
        self, client: AsyncWebClient, team_id: str, user_id: str, *, notice: Sequence[str] = ()
    ) -> None:
        """One person's Home tab: how to use Paperboy, their follows and latest matches (the core's
        `following`, run as their direct-message command), and the commands the core serves (its specs)."""
        assert self._core is not None, "SlackAdapter.start() was not called"
        invocation = CommandInvocation(
            channel=ChannelRef.dm(Platform.SLACK, team_id, user_id),
            user=UserRef(user_id),
            text="following",
            permission=Permission(False),
            received_at=self._clock.now(),
            is_direct_message=True,
            command="following",
        )
        messages: Sequence[Message]
        try:
            messages = await self._core.handle(invocation)
        except Exception:
            # The how-to and the commands are worth showing without the person's follows.
            logger.exception("slack: `following` for the Home tab failed workspace=%s user=%s", team_id, user_id)
            messages = ()
        view = render_home(self._core.specs(), self._settings.command, messages, notice=notice)
        try:
            await client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            logger.warning(
                "slack: views.publish failed workspace=%s user=%s: %s", team_id, user_id, exc.response.get("error")
            )
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            logger.warning("slack: views.publish failed workspace=%s user=%s: %s", team_id, user_id, exc)

    async def _run_action(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        user = body.get("user") or {}
        try:
            permission = await self._permission(client, translate.workspace_of(body), str(user.get("id", "")))
            invocation = translate.block_action(body, permission=permission, received_at=self._clock.now())
        except (translate.UnsupportedPayload, SlackClientError) as exc:
            logger.warning("slack: ignoring a button: %s", exc)
            return
        if invocation.channel.dm_user is not None:
            await self._run_from_home(invocation, client)
            return
        await self._run(
            invocation, ReplyTarget(self, client, response_url=body.get("response_url"), replace_original=False)
        )

    async def _run_from_home(self, invocation: CommandInvocation, client: AsyncWebClient) -> None:
        """A button on the Home tab: run its command for the person, then publish their Home tab again
        (an Unfollow takes the follow off it). What the command says in text shows at the top of the Home
        tab, which has no reply thread; anything more (a paper list) goes to the person's direct messages."""
        assert self._core is not None, "SlackAdapter.start() was not called"
        ref, user_id = invocation.channel, invocation.user.user_id
        try:
            replies: Sequence[Message] = await self._core.handle(invocation)
        except Exception:
            logger.exception("slack: a Home tab button failed in %s user=%s", ref, user_id)
            replies = [TextReply("Something went wrong on Paperboy's side; try again later.", True, True)]
        notice: list[str] = []
        for reply in replies:
            if isinstance(reply, TextReply):
                notice.append(("⚠️ " if reply.is_error else "") + reply.text)
                continue
            try:
                await self.send(ref, reply)
            except (PermanentDeliveryError, RetryableDeliveryError) as exc:
                logger.warning("slack: could not send a Home tab button's reply to %s: %s", ref, exc.reason)
        await self._publish_home_for(client, ref.workspace_id, user_id, notice=notice)

    async def _run_link_shared(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Unfurl every paper link of a message with its card (`chat.unfurl`); the core stores the share."""
        assert self._core is not None, "SlackAdapter.start() was not called"
        event = body.get("event") or {}
        if event.get("is_bot_user_member") is False:
            logger.info("slack: a paper link in a channel Paperboy is not in; not unfurled")
            return
        try:
            shared = translate.link_shared(
                body, permission=Permission(False, "channel managers"), received_at=self._clock.now()
            )
        except translate.UnsupportedPayload as exc:
            logger.warning("slack: ignoring a link_shared: %s", exc)
            return
        unfurls: dict[str, dict[str, Any]] = {}
        for url, invocation in shared.shares:
            try:
                replies = await self._core.handle(invocation)
            except Exception:
                logger.exception("slack: unfurling a link failed in %s", shared.channel)
                continue
            cards = [r for r in replies if isinstance(r, PaperCard)]
            if cards:  # not a paper Paperboy knows (or can fetch): Slack shows its own preview
                unfurls[url] = {"blocks": render(cards[0])[0].blocks}
        if not unfurls:
            return
        try:
            if shared.unfurl_id and shared.source:  # Slack's current form, and the only one for the composer
                await client.chat_unfurl(unfurls=unfurls, unfurl_id=shared.unfurl_id, source=shared.source)
            else:
                await client.chat_unfurl(unfurls=unfurls, channel=shared.channel.channel_id, ts=shared.message_ts)
        except SlackApiError as exc:
            logger.warning("slack: chat.unfurl failed in %s: %s", shared.channel, exc.response.get("error"))

    async def _run(self, invocation: CommandInvocation, target: ReplyTarget) -> None:
        assert self._core is not None, "SlackAdapter.start() was not called"
        ids = f"{invocation.channel} user={invocation.user.user_id}"
        try:
            replies: Sequence[Message] = await self._core.handle(invocation)
        except Exception:
            logger.exception("slack: command failed in %s", ids)
            replies = [TextReply("Something went wrong on Paperboy's side; try again later.", True, True)]
        if len(replies) != 1:
            target.no_ack()  # several replies keep their order only all through response_url (ack.py)
        for reply in replies:
            private = invocation.force_private or reply.private or (isinstance(reply, TextReply) and reply.is_error)
            if isinstance(reply, ExportFile) and not private:
                target.no_ack()  # the file goes to files.uploadV2; the ack carries nothing
                await self._upload(invocation, target, reply)
                continue
            try:
                await target.deliver(invocation.channel, render(reply), private=private)
            except Exception:
                logger.exception("slack: could not deliver a reply in %s", ids)

    async def _upload(self, invocation: CommandInvocation, target: ReplyTarget, file: ExportFile) -> None:
        """Upload a file to the channel (files.uploadV2); when Slack refuses, say so privately."""
        channel = invocation.channel
        try:
            await target.client.files_upload_v2(
                channel=channel.channel_id,
                content=file.content,
                filename=file.filename,
                title=file.filename,
                initial_comment=f"📎 {file.summary}",
            )
        except (SlackApiError, SlackClientError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            logger.warning("slack: files.uploadV2 failed in %s: %s", channel, error)
            refusal = "Slack did not take the file"
            refusal += (
                " (Paperboy needs the `files:write` scope: reinstall the app)." if error == "missing_scope" else "."
            )
            try:
                await target.deliver(channel, render(TextReply(refusal, True, True)), private=True)
            except Exception:
                logger.exception("slack: could not say the upload failed in %s", channel)

    # ---- Permissions ---------------------------------------------------------------------------

    async def _permission(self, client: AsyncWebClient, team_id: str, user_id: str) -> Permission:
        rule = self._settings.permission
        if rule is SlackPermissionRule.EVERYONE:
            return Permission(True, "everyone")
        if rule is SlackPermissionRule.ALLOWLIST:
            return Permission(user_id in self._settings.allowed_users, "the users on Paperboy's allow-list")
        now = self._clock.now()
        cached = self._permission_cache.get((team_id, user_id))
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as exc:
            # Fail closed for channel changes only: the core still answers read-only commands.
            logger.warning("slack: users.info for %s in %s failed (%s)", user_id, team_id, exc.response.get("error"))
            return Permission(False, "workspace admins and owners")
        user = response.get("user") or {}
        flag = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        permission = Permission(flag, "workspace admins and owners")
        if len(self._permission_cache) > 10_000:
            self._permission_cache.clear()
        self._permission_cache[(team_id, user_id)] = (permission, now + PERMISSION_CACHE_TTL)
        return permission

    # ---- Posting -------------------------------------------------------------------------------

    async def _token_for(self, channel: ChannelRef) -> str | None:
        if self._installations is None:
            return None  # the client's own bot token
        bot = await self._installations.async_find_bot(enterprise_id=None, team_id=channel.workspace_id)
        if bot is None or not bot.bot_token:
            raise PermanentDeliveryError(
                f"Paperboy is not installed in Slack workspace {channel.workspace_id} (no installation found)"
            )
        return str(bot.bot_token)

    async def _post(
        self,
        channel: ChannelRef,
        post: SlackPost,
        *,
        token: str | None = None,
        client: AsyncWebClient | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        conversation: str | None = None,
    ) -> str:
        """chat.postMessage, at most one post per channel every `min_post_interval` seconds.

        `conversation` is the Slack channel id to post in when it is not the ref's own (a person's IM).
        """
        lock = self._channel_locks.setdefault(channel.key, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            wait = self._last_post.get(channel.key, -1e9) + self._min_post_interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                kwargs: dict[str, Any] = {}
                if token is not None:
                    kwargs["token"] = token
                if metadata is not None:
                    kwargs["metadata"] = metadata
                response = await (client or self._client).chat_postMessage(
                    channel=conversation or channel.channel_id,
                    text=post.text,
                    blocks=post.blocks or None,
                    thread_ts=thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                    **kwargs,
                )
            finally:
                self._last_post[channel.key] = loop.time()
        return str(response["ts"])


class ReplyTarget:
    """Where the replies to one command go: response_url (slash commands, buttons) or the Web API (mentions)."""

    def __init__(
        self,
        adapter: SlackAdapter,
        client: AsyncWebClient,
        *,
        response_url: str | None = None,
        thread_ts: str | None = None,
        user_id: str | None = None,
        replace_original: bool | None = None,
        ack: AckAnswer | None = None,
        direct: bool = False,
    ) -> None:
        self._direct = direct
        """Replies in a direct message: private ones are simply posted there (only the user sees the DM)."""
        self._adapter = adapter
        self._ack = ack
        self._client = client
        self._response_url = response_url or None
        self._thread_ts = thread_ts
        self._user_id = user_id
        self._replace_original = replace_original

    def no_ack(self) -> None:
        """Nothing of this command's answer goes in its ack."""
        if self._ack is not None:
            self._ack.close()

    @property
    def client(self) -> AsyncWebClient:
        """The Web API client of the workspace the command came from (its own token)."""
        return self._client

    async def deliver(self, channel: ChannelRef, posts: list[SlackPost], *, private: bool) -> None:
        if len(posts) != 1:
            self.no_ack()
        if private and not self._direct:
            await self.deliver_private(posts, channel)
            return
        if self._response_url is not None and len(posts) == 1:
            # response_url posts in the channel even where the bot is not a member.
            await self._respond(posts[0], "in_channel")
            return
        try:
            await self._threaded(channel, posts)
        except SlackApiError as exc:
            if self._response_url is None or exc.response.get("error") not in ("not_in_channel", "channel_not_found"):
                raise
            for post in posts:
                await self._respond(post, "in_channel")

    async def deliver_private(self, posts: list[SlackPost], channel: ChannelRef | None = None) -> None:
        for post in posts:
            if self._response_url is not None:
                await self._respond(post, "ephemeral")
            elif channel is not None and self._user_id:
                await self._client.chat_postEphemeral(
                    channel=channel.channel_id,
                    user=self._user_id,
                    text=post.text,
                    blocks=post.blocks or None,
                    thread_ts=self._thread_ts,
                )

    async def _threaded(self, channel: ChannelRef, posts: list[SlackPost]) -> None:
        first_ts = self._thread_ts
        for post in posts:
            thread_ts = first_ts if (post.thread or self._thread_ts) else None
            ts = await self._adapter._post(
                channel, post, client=self._client, thread_ts=thread_ts, metadata=post.metadata
            )
            if first_ts is None:
                first_ts = ts

    async def _respond(self, post: SlackPost, response_type: str) -> None:
        assert self._response_url is not None
        if self._ack is not None and self._ack.offer(post, response_type):
            return  # the reply rides in the ack (ack.py)
        # One shared aiohttp session (from start()) instead of a new session and connector per reply.
        webhook = AsyncWebhookClient(
            self._response_url,
            session=self._adapter._session,
            retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1), AsyncServerErrorRetryHandler()],
        )
        response = await webhook.send(
            text=post.text,
            blocks=post.blocks or None,
            response_type=response_type,
            replace_original=self._replace_original,
        )
        if response.status_code >= 300:
            logger.warning("slack: response_url refused a reply (HTTP %s)", response.status_code)

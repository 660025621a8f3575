"""The engine: turns a `CommandInvocation` into replies, the same way for every surface.

It is the `CommandPort` every chat adapter serves: the specs (to build native commands), `handle` (run
one invocation) and `suggest` (values while a user types). It owns the error policy: a `CommandError`
becomes a short private reply, anything else is logged with its ids and answered with a generic one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from bot.commands import COMMAND_PREFIX, Bound, CommandError, CommandRegistry, refusal, screen
from bot.errors import StoreUnavailable
from bot.metrics import COMMANDS
from bot.outage import UNAVAILABLE_REPLY, StoreHealth
from bot.ports import Suggestion
from bot.types import Audience, CommandInvocation, CommandSpec, Message, TextReply

logger = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong on Paperboy's side; it has been logged. Please try again in a minute."
MAX_SUGGESTIONS = 25


Notices = Callable[[CommandInvocation], Awaitable[Sequence[Message]]]
"""What the person who ran a command should read besides its answer (their follows paused, say)."""


class Engine:
    def __init__(
        self, commands: CommandRegistry, *, health: StoreHealth | None = None, notices: Notices | None = None
    ) -> None:
        self.commands = commands
        self._health = health
        self._notices = notices

    def specs(self) -> Sequence[CommandSpec]:
        return self.commands.specs()

    def _resolve(self, invocation: CommandInvocation) -> tuple[str, str]:
        """(command name, the text after it) for typed or structured invocations."""
        if invocation.command is not None:
            return invocation.command.lower() or "help", ""
        text = invocation.text.strip()
        if text.startswith(COMMAND_PREFIX):
            text = text[len(COMMAND_PREFIX) :].strip()
        name, _, rest = text.partition(" ")
        return name.lower() or "help", rest.strip()

    def _unalias(self, invocation: CommandInvocation) -> CommandInvocation:
        """The invocation an alias stands for: `unfollow 3` is `follow stop 3`, typed or pressed."""
        name, rest = self._resolve(invocation)
        target = self.commands.expand(name)
        if target is None:
            return invocation
        command, words = target
        if invocation.command is None:
            return replace(invocation, text=f"{command} {words} {rest}".strip())
        return replace(invocation, command=command, args=(" ".join([words, *invocation.args]).strip(),))

    async def handle(self, invocation: CommandInvocation) -> list[Message]:
        invocation = self._unalias(invocation)
        replies = await self._handle(invocation)
        if self._notices is not None:
            try:
                replies.extend(await self._notices(invocation))
            except Exception:
                # A notice is extra: the command's own answer goes out whatever went wrong with it.
                logger.exception("notices for %s failed", invocation.channel.key)
        return replies

    async def _handle(self, invocation: CommandInvocation) -> list[Message]:
        name, rest = self._resolve(invocation)
        bound = self.commands.get(name)
        try:
            screen(invocation)
        except CommandError as exc:
            COMMANDS.labels(command=name if bound else "unknown", outcome="error").inc()
            return [TextReply(exc.message, private=True, is_error=True)]
        if bound is None:
            COMMANDS.labels(command="unknown", outcome="error").inc()
            hint = self.commands.closest(name)
            extra = f" Did you mean `{hint}`?" if hint else ""
            return [
                TextReply(f"Unknown command `{name[:40]}`.{extra} Try `/papers help`.", private=True, is_error=True)
            ]
        spec = bound.command.spec
        if spec.audience is Audience.MANAGERS and (reason := refusal(invocation, name)) is not None:
            COMMANDS.labels(command=name, outcome="refused").inc()
            return [TextReply(reason, private=True, is_error=True)]
        try:
            reply = await self._call(bound, invocation, rest)
        except CommandError as exc:
            COMMANDS.labels(command=name, outcome="error").inc()
            return [TextReply(exc.message, private=True, is_error=True)]
        except StoreUnavailable as exc:
            COMMANDS.labels(command=name, outcome="unavailable").inc()
            if self._health is not None:
                self._health.unavailable(exc, f"running /papers {name}")
            return [TextReply(UNAVAILABLE_REPLY, private=True, is_error=True)]
        except Exception:
            COMMANDS.labels(command=name, outcome="failure").inc()
            ref = invocation.channel
            logger.exception(
                "command %s failed platform=%s workspace=%s channel=%s",
                name,
                ref.platform.value,
                ref.workspace_id,
                ref.channel_id,
            )
            return [TextReply(GENERIC_FAILURE, private=True, is_error=True)]
        COMMANDS.labels(command=name, outcome="ok").inc()
        messages = list(reply) if isinstance(reply, Sequence) else [reply]
        if invocation.force_private or spec.private:
            messages = [m if m.private else replace(m, private=True) for m in messages]
        return messages

    async def _call(self, bound: Bound, invocation: CommandInvocation, rest: str) -> Message | Sequence[Message]:
        values = bound.command.bind(invocation, rest)
        return await bound.command.handler(self.commands.context(bound, invocation), **values)

    async def suggest(self, invocation: CommandInvocation, param: str, current: str) -> Sequence[Suggestion]:
        """Values for one parameter while the user types; nothing when the command offers none."""
        name, _ = self._resolve(invocation)
        bound = self.commands.get(name)
        found = bound.command.param(param) if bound is not None else None
        try:
            screen(replace(invocation, options=((param, current),)))
        except CommandError:
            return []
        if bound is None or found is None or found.arg.suggest is None:
            return []
        suggestions = await found.arg.suggest(self.commands.context(bound, invocation), current)
        return list(suggestions)[:MAX_SUGGESTIONS]

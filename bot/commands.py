"""The command registry: one place that knows every `/papers` subcommand.

Handlers register with `@registry.command(...)`, which returns the function unchanged. A handler takes
one `CommandContext` and returns its reply (one message or several). Expected failures raise
`CommandError("what the user should read")`; anything else is the engine's business (logged with ids,
answered with a short generic message). Help text, Discord options and the README command reference
all come from this registry, so they cannot drift.
"""

from __future__ import annotations

import difflib
import inspect
import shlex
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.types import ArgSpec, ChannelRef, CommandInvocation, CommandSpec, Message

if TYPE_CHECKING:
    from bot.engine import Engine


class CommandError(Exception):
    """A failure the user caused and can fix; the message is shown to them privately, as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class CommandContext:
    invocation: CommandInvocation
    engine: Engine
    command: str
    args: str

    @property
    def channel(self) -> ChannelRef:
        return self.invocation.channel

    def words(self) -> list[str]:
        """The arguments split like a shell would, quotes kept together; a stray quote is a user error."""
        try:
            return shlex.split(self.args)
        except ValueError as exc:
            raise CommandError(f"Could not read the arguments: {exc}.") from None


def refusal(invocation: CommandInvocation, what: str) -> str | None:
    """Why `invocation`'s user may not change this channel with `what`, or None when they may."""
    if invocation.is_direct_message:
        return (
            f"`{what}` changes a channel's digest, so it works in a server or workspace channel, "
            "not in a direct message."
        )
    if not invocation.permission.can_manage_channel:
        return f"Only {invocation.permission.who_can} can use `{what}` here; nothing was changed."
    return None


def require_manager(ctx: CommandContext, what: str) -> None:
    reason = refusal(ctx.invocation, what)
    if reason is not None:
        raise CommandError(reason)


Reply = Message | Sequence[Message]
Handler = Callable[[CommandContext], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Command:
    spec: CommandSpec
    handler: Handler


class CommandRegistry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def command(
        self,
        name: str,
        *,
        usage: str,
        args: Sequence[ArgSpec] = (),
        changes_channel: bool = False,
        private: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register a subcommand. The docstring's first line is its summary, the rest its description."""

        def register(handler: Handler) -> Handler:
            if name in self._commands:
                raise ValueError(f"duplicate command name {name!r}")
            doc = inspect.getdoc(handler) or ""
            summary, _, description = doc.partition("\n")
            if not summary:
                raise ValueError(f"command {name!r} needs a docstring: it is the help text")
            self._commands[name] = Command(
                CommandSpec(
                    name=name,
                    summary=summary.strip(),
                    usage=usage,
                    description=description.strip(),
                    args=tuple(args),
                    changes_channel=changes_channel,
                    private=private,
                ),
                handler,
            )
            return handler

        return register

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def specs(self) -> list[CommandSpec]:
        return [c.spec for c in self._commands.values()]

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name, list(self._commands), n=1, cutoff=0.6)
        return close[0] if close else None


registry = CommandRegistry()

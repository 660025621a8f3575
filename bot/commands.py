"""Commands, declared once: a handler's signature is its spec.

A command family is a `Router` of handlers. Each handler takes one typed `Context` and the command's
parameters, and returns its reply::

    router: Router[PaperServices] = Router("papers")

    @router.command()
    async def today(ctx: Context[PaperServices], n: Count = 10) -> PaperList:
        \"\"\"The most upvoted papers of the latest complete Daily Papers day.\"\"\"

Every parameter after the context becomes a `ParamSpec`: `int` is an integer (ASCII digits, with
`Arg(min=..., max=...)`), `Literal["week", "month"]` a choice, `str` a word, and `Arg(rest=True)` the
rest of the typed line (a query, kept exactly as typed); `Arg(convert=...)` turns the text into a domain
value (a parsed query, a canonical arXiv id) or raises. A default makes a parameter optional. The
docstring's first line is the summary, the rest the description.

Typed text, Discord's typed options and pressed buttons are all bound through the spec (`Command.bind`),
so every surface validates the same way, handlers receive parsed values, and a usage error shows the
usage line built from the spec. Slack help, Discord options, `/papers help` and the README reference are
all made from the same specs.

A family registers explicitly: `CommandRegistry.include(router, services)` binds the router to the
services its handlers use (never the whole engine). Duplicate names fail at start, and a test can build
a registry of one family. Decorators return the function unchanged.

Expected failures raise `CommandError("what the user should read")`; anything else is the engine's
business (logged with ids, answered with a short generic message).
"""

from __future__ import annotations

import difflib
import inspect
import re
import types
import typing
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar, get_args, get_origin

from bot.ports import Suggestion
from bot.types import (
    Audience,
    ChannelRef,
    CommandInvocation,
    CommandSpec,
    Message,
    ParamKind,
    ParamSpec,
    UserRef,
)

__all__ = [
    "Arg",
    "Command",
    "CommandError",
    "CommandRegistry",
    "Context",
    "Reply",
    "Router",
    "refusal",
    "screen",
]

COMMAND_PREFIX = "/papers"
MAX_NUMBER_DIGITS = 9
"""Numbers are bounded before they are read: nothing a user types can overflow an id or a setting."""

_ASCII_NUMBER = re.compile(r"[0-9]+")
MAX_INPUT_LENGTH = 1000
"""The most one invocation's text (or one of its values) may hold. No command needs more (a query is at
most 300 characters); Slack sends up to 4,000 and Discord options up to 6,000, which would only be echoed."""

# Whitespace a typed line may hold (Slack keeps the newlines of shift-enter); every other control
# character is refused: PostgreSQL refuses NUL in text, and the rest only hides or garbles what a reader sees.
_WHITESPACE_CONTROLS = frozenset("\t\n\r")
# Bidirectional embeddings, overrides and isolates reorder what a reader sees (the "Trojan Source" trick).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class CommandError(Exception):
    """A failure the user caused and can fix; the message is shown to them privately, as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Catalog(Protocol):
    """The commands a deployment serves, as `help` and error messages need them."""

    def specs(self) -> list[CommandSpec]: ...

    def spec(self, name: str) -> CommandSpec | None: ...

    def closest(self, name: str) -> str | None: ...


S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Context(Generic[S]):
    """What a handler gets: the invocation, the services of its family, and the command catalog."""

    invocation: CommandInvocation
    services: S
    catalog: Catalog
    command: str

    @property
    def channel(self) -> ChannelRef:
        return self.invocation.channel

    @property
    def user(self) -> UserRef:
        return self.invocation.user

    def require_manager(self, what: str) -> None:
        """Raise the refusal the user should read when they may not change this channel with `what`."""
        reason = refusal(self.invocation, what)
        if reason is not None:
            raise CommandError(reason)


def input_problem(text: str) -> str | None:
    """Why `text` cannot be taken as a user's input (too long, a control character), or None."""
    if len(text) > MAX_INPUT_LENGTH:
        return f"That is too long ({len(text):,} characters, at most {MAX_INPUT_LENGTH:,}). Nothing was changed."
    if text.isprintable():
        return None
    for position, char in enumerate(text, start=1):
        if char in _WHITESPACE_CONTROLS:
            continue
        if char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
            return (
                f"That contains a control character (U+{ord(char):04X}) at position {position}; "
                "remove it and try again. Nothing was changed."
            )
    return None


def screen(invocation: CommandInvocation) -> None:
    """Refuse an invocation with an over-long value or a control character anywhere in it.

    The one input policy of every surface (typed text, pressed buttons, Discord options), applied by the
    engine before a command is even looked up, so no handler, error message or table ever sees such a value.
    """
    values: list[str] = [invocation.text, invocation.command or "", *invocation.args]
    for name, value in invocation.options:
        values.append(name)
        if isinstance(value, str):
            values.append(value)
    for value in values:
        problem = input_problem(value)
        if problem is not None:
            raise CommandError(problem)


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


Reply = Message | Sequence[Message]
Handler = Callable[..., Awaitable[Reply]]
Suggester = Callable[[Context[Any], str], Awaitable[Sequence[Suggestion]]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True, slots=True)
class Arg:
    """How a parameter reads: put it in the annotation, `Annotated[int, Arg("How many", min=1, max=25)]`.

    `what` names the value in error messages ("setting", "digest action"); `missing` is the error when a
    required value is missing; `suggest` offers values while the user types (Discord autocomplete).
    `convert` turns the text into the value the handler receives; it raises `CommandError` (shown as
    is) or `ValueError` (shown with a full stop).
    """

    description: str
    metavar: str = ""
    min: int | None = None
    max: int | None = None
    rest: bool = False
    convert: Callable[[str], Any] | None = None
    what: str = ""
    missing: str = ""
    suggest: Suggester | None = None


@dataclass(frozen=True, slots=True)
class Param:
    spec: ParamSpec
    default: Any
    arg: Arg

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True, slots=True)
class Command:
    """One subcommand: its spec, its handler, and how its parameters are read."""

    spec: CommandSpec
    handler: Handler
    params: tuple[Param, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def usage_error(self, problem: str) -> CommandError:
        return CommandError(f"{problem} Usage: `{COMMAND_PREFIX} {self.spec.usage}`.")

    def bind(self, invocation: CommandInvocation, text: str) -> dict[str, Any]:
        """The handler's keyword arguments for `invocation` (`text`: what follows the command name)."""
        if invocation.command is None:
            raw: dict[str, str | int] = dict(zip((p.name for p in self.params), self._split(text), strict=False))
        else:
            raw = self._structured(invocation)
        return {p.name: self._value(p, raw.get(p.name)) for p in self.params}

    def _split(self, text: str) -> list[str]:
        """Typed text -> one raw value per parameter, in order; the `rest` parameter takes the rest."""
        values: list[str] = []
        pos = 0
        for param in self.params:
            pos = _skip_space(text, pos)
            if pos >= len(text):
                break
            if param.spec.rest:
                values.append(text[pos:].strip())
                pos = len(text)
                break
            word, pos = _read_word(text, pos)
            values.append(word)
        if _skip_space(text, pos) < len(text):
            raise self.usage_error("That is more than this command takes.")
        return values

    def _structured(self, invocation: CommandInvocation) -> dict[str, str | int]:
        """Values that arrived one per parameter (a pressed action, Discord options): never re-split."""
        if len(invocation.args) > len(self.params):
            raise self.usage_error("That is more than this command takes.")
        raw: dict[str, str | int] = dict(zip((p.name for p in self.params), invocation.args, strict=False))
        known = {p.name for p in self.params}
        for name, value in invocation.options:
            if name not in known:
                raise self.usage_error(f"`{name[:32]}` is not an option of `{self.name}`.")
            raw[name] = value
        return raw

    def _value(self, param: Param, raw: str | int | None) -> Any:
        spec, arg = param.spec, param.arg
        text = raw.strip() if isinstance(raw, str) else raw
        if text is None or text == "":
            if spec.required:
                raise (
                    CommandError(arg.missing) if arg.missing else self.usage_error(f"`{self.name}` needs {spec.usage}.")
                )
            return param.default
        if spec.kind is ParamKind.INTEGER:
            return self._number(param, text)
        value = str(text)
        if spec.kind is ParamKind.CHOICE:
            folded = value.casefold()
            if folded not in spec.choices:
                what = arg.what or spec.name
                raise CommandError(f"Unknown {what} `{value[:30]}`. Use one of: {', '.join(spec.choices)}.")
            return folded
        if arg.convert is None:
            return value
        try:
            return arg.convert(value)
        except CommandError:
            raise
        except ValueError as exc:
            raise CommandError(f"{exc}.") from None

    def _number(self, param: Param, raw: str | int) -> int:
        spec = param.spec
        lo, hi = spec.min_value, spec.max_value
        bounds = f" from {lo} to {hi}" if lo is not None and hi is not None else ""
        if isinstance(raw, bool):
            raw = str(raw)
        if isinstance(raw, int):
            # A structured integer (a Discord option) is as bounded as a typed one: no overflow reaches a table.
            if abs(raw) >= 10**MAX_NUMBER_DIGITS:
                raise CommandError(f"That is not a {param.arg.what or 'number'}{bounds}.")
            number = raw
        elif len(raw) <= MAX_NUMBER_DIGITS and _ASCII_NUMBER.fullmatch(raw):
            number = int(raw)
        else:
            raise CommandError(f"`{raw[:20]}` is not a {param.arg.what or 'number'}{bounds}.")
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise CommandError(f"`{number}` is not a {param.arg.what or 'number'}{bounds}.")
        return number


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _read_word(text: str, pos: int) -> tuple[str, int]:
    """One word at `pos`: up to the next space, or a "double" / 'single' quoted string."""
    quote = text[pos]
    if quote in "\"'":
        end = text.find(quote, pos + 1)
        if end == -1:
            raise CommandError(f"The quote at position {pos + 1} is never closed.")
        return text[pos + 1 : end], end + 1
    end = pos
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[pos:end], end


# ---------------------------------------------------------------------------------------------
# Reading a handler's signature


def _params_of(name: str, handler: Handler) -> tuple[Param, ...]:
    hints = typing.get_type_hints(handler, include_extras=True)
    signature = inspect.signature(handler)
    positional = list(signature.parameters.values())
    if not positional:
        raise TypeError(f"command {name!r}: the handler must take a Context first")
    params: list[Param] = []
    for parameter in positional[1:]:
        if parameter.kind not in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            raise TypeError(f"command {name!r}: parameter {parameter.name!r} must be a plain named parameter")
        params.append(_param(name, parameter, hints[parameter.name]))
    for param in params[:-1]:
        if param.spec.rest:
            raise TypeError(f"command {name!r}: only the last parameter can take the rest of the line")
    return tuple(params)


def _param(command: str, parameter: inspect.Parameter, hint: Any) -> Param:
    base, arg = _without_none(hint), None
    if get_origin(base) is typing.Annotated:
        base, *extras = get_args(base)
        arg = next((e for e in extras if isinstance(e, Arg)), None)
    if arg is None:
        raise TypeError(f"command {command!r}: parameter {parameter.name!r} needs an Arg(...) in its annotation")
    base = _without_none(base)
    required = parameter.default is inspect.Parameter.empty
    kind = ParamKind.TEXT
    choices: tuple[str, ...] = ()
    if base is int:
        kind = ParamKind.INTEGER
    elif get_origin(base) is Literal:
        kind, choices = ParamKind.CHOICE, tuple(str(c) for c in get_args(base))
    elif base is not str and arg.convert is None:
        raise TypeError(f"command {command!r}: parameter {parameter.name!r} of type {base!r} needs a convert=")
    spec = ParamSpec(
        name=parameter.name,
        description=arg.description,
        kind=kind,
        required=required,
        choices=choices,
        min_value=arg.min,
        max_value=arg.max,
        metavar=arg.metavar,
        rest=arg.rest,
        suggests=arg.suggest is not None,
    )
    return Param(spec, None if required else parameter.default, arg)


def _without_none(hint: Any) -> Any:
    if get_origin(hint) in (typing.Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return options[0]
    return hint


# ---------------------------------------------------------------------------------------------
# Routers and the registry


class Router(Generic[S]):
    """One command family. Its handlers all receive `Context[S]`: the services the family was bound to."""

    def __init__(self, family: str) -> None:
        self.family = family
        self.commands: list[Command] = []
        self.aliases: dict[str, tuple[str, str]] = {}

    def alias(self, name: str, command: str, *words: str) -> None:
        """Let `name` be typed for `command words...` (`following` for `follow list`).

        An alias is a typed shorthand, never a platform command of its own: Discord registers at most
        25 subcommands, and a family's variants fit as the words of one.
        """
        if name in self.aliases or any(c.name == name for c in self.commands):
            raise ValueError(f"alias {name!r} is already a name in {self.family}")
        self.aliases[name] = (command, " ".join(words))

    def command(
        self, name: str | None = None, *, audience: Audience = Audience.EVERYONE, private: bool = False
    ) -> Callable[[H], H]:
        """Register a subcommand (named after the function unless `name` is given)."""

        def register(handler: H) -> H:
            command = name or handler.__name__.rstrip("_").replace("_", "-")
            doc = inspect.getdoc(handler) or ""
            summary, _, description = doc.partition("\n")
            if not summary:
                raise ValueError(f"command {command!r} needs a docstring: it is the help text")
            if any(c.name == command for c in self.commands):
                raise ValueError(f"duplicate command name {command!r} in {self.family}")
            params = _params_of(command, handler)
            spec = CommandSpec(
                name=command,
                summary=summary.strip(),
                description=description.strip(),
                params=tuple(p.spec for p in params),
                audience=audience,
                private=private,
            )
            self.commands.append(Command(spec, handler, params))
            return handler

        return register


@dataclass(frozen=True, slots=True)
class Bound:
    """A command and the services of its family."""

    command: Command
    services: Any


@dataclass
class CommandRegistry:
    """The commands one deployment serves, in the order `help` lists them."""

    _commands: dict[str, Bound] = field(default_factory=dict)
    _aliases: dict[str, tuple[str, str]] = field(default_factory=dict)

    def include(self, router: Router[S], services: S) -> CommandRegistry:
        for command in router.commands:
            if command.name in self._commands or command.name in self._aliases:
                raise ValueError(f"duplicate command name {command.name!r} ({router.family})")
            self._commands[command.name] = Bound(command, services)
        for name, target in router.aliases.items():
            if name in self._commands or name in self._aliases:
                raise ValueError(f"alias {name!r} of {router.family} is already a command name")
            self._aliases[name] = target
        return self

    def expand(self, name: str) -> tuple[str, str] | None:
        """(command, the words it stands for) when `name` is an alias (`following` -> `follow`, `list`)."""
        return self._aliases.get(name)

    def get(self, name: str) -> Bound | None:
        return self._commands.get(name)

    def spec(self, name: str) -> CommandSpec | None:
        bound = self._commands.get(name)
        return bound.command.spec if bound else None

    def specs(self) -> list[CommandSpec]:
        return [b.command.spec for b in self._commands.values()]

    def closest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name, [*self._commands, *self._aliases], n=1, cutoff=0.6)
        return close[0] if close else None

    def context(self, bound: Bound, invocation: CommandInvocation) -> Context[Any]:
        return Context(invocation, bound.services, self, bound.command.name)

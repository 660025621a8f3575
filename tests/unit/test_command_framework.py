"""Commands declared once: a handler's signature is its spec, and every surface is bound through it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import pytest

from bot import actions as codec
from bot.actions import paper_actions, topic_actions
from bot.commands import Arg, CommandRegistry, Context, Router
from bot.engine import Engine
from bot.features import ROUTERS, command_specs, papers
from bot.ports import Suggestion
from bot.types import (
    Audience,
    ChannelRef,
    CommandInvocation,
    Message,
    ParamKind,
    Permission,
    Platform,
    TextReply,
    UserRef,
)
from tests.fakes.common import paper

HERE = ChannelRef(Platform.CONSOLE, "W1", "C1")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def typed(text: str, *, manager: bool = True) -> CommandInvocation:
    return CommandInvocation(HERE, UserRef("U1"), text, Permission(manager, "channel managers"), NOW)


def structured(command: str, *args: str, options: tuple[tuple[str, str | int], ...] = ()) -> CommandInvocation:
    return CommandInvocation(
        HERE, UserRef("U1"), "", Permission(True, "channel managers"), NOW, command=command, args=args, options=options
    )


# ---- a family of one, declared here -------------------------------------------------------------


@dataclass(frozen=True)
class Echo:
    prefix: str


router: Router[Echo] = Router("echo")
Count = Annotated[int, Arg("How many (1-25)", metavar="N", min=1, max=25)]
Mode = Annotated[Literal["week", "month"], Arg("week or month", what="period")]
Words = Annotated[str, Arg("Anything", metavar="text", rest=True, missing="Say something.")]


async def _suggest(ctx: Context[Any], current: str) -> Sequence[Suggestion]:
    return [Suggestion(f"{ctx.services.prefix}{current}", current)]


Pick = Annotated[str, Arg("A pick", suggest=_suggest)]


@router.command()
async def top(ctx: Context[Echo], mode: Mode, n: Count = 10) -> TextReply:
    """The top of a period."""
    return TextReply(f"{ctx.services.prefix}{mode}:{n}")


@router.command(audience=Audience.MANAGERS)
async def say(ctx: Context[Echo], words: Words) -> TextReply:
    """Say something.

    The rest of the line, exactly as typed.
    """
    return TextReply(f"{ctx.services.prefix}{words}")


@router.command(private=True)
async def pick(ctx: Context[Echo], choice: Pick) -> TextReply:
    """Pick something."""
    return TextReply(choice)


def engine() -> Engine:
    return Engine(CommandRegistry().include(router, Echo("> ")))


async def reply_text(invocation: CommandInvocation) -> str:
    (reply,) = await engine().handle(invocation)
    assert isinstance(reply, TextReply), reply
    return reply.text


async def error_text(invocation: CommandInvocation) -> str:
    (reply,) = await engine().handle(invocation)
    assert isinstance(reply, TextReply) and reply.is_error and reply.private, reply
    return reply.text


# ---- the spec ------------------------------------------------------------------------------------


def test_the_signature_is_the_spec() -> None:
    spec = {c.name: c.spec for c in router.commands}
    top_spec = spec["top"]
    assert top_spec.summary == "The top of a period." and top_spec.usage == "top week|month [N]"
    mode, n = top_spec.params
    assert (mode.kind, mode.required, mode.choices) == (ParamKind.CHOICE, True, ("week", "month"))
    assert (n.kind, n.required, n.min_value, n.max_value) == (ParamKind.INTEGER, False, 1, 25)
    assert spec["say"].usage == "say <text>" and spec["say"].description == "The rest of the line, exactly as typed."
    assert spec["say"].params[0].rest and spec["say"].audience is Audience.MANAGERS
    assert spec["pick"].params[0].suggests and spec["pick"].private


def test_declaration_mistakes_fail_at_start() -> None:
    bad: Router[None] = Router("bad")
    with pytest.raises(TypeError, match="needs an Arg"):

        @bad.command()
        async def plain(ctx: Context[None], n: int) -> TextReply:
            """No Arg."""
            return TextReply("")

    with pytest.raises(TypeError, match="only the last parameter"):

        @bad.command()
        async def early(ctx: Context[None], words: Words, n: Count = 1) -> TextReply:
            """Rest first."""
            return TextReply("")

    with pytest.raises(ValueError, match="docstring"):

        @bad.command()
        async def undocumented(ctx: Context[None]) -> TextReply:
            return TextReply("")


def test_duplicate_names_fail_at_start() -> None:
    with pytest.raises(ValueError, match="duplicate command name 'top'"):
        CommandRegistry().include(router, Echo("")).include(router, Echo(""))


def test_a_registry_of_one_family() -> None:
    registry = CommandRegistry().include(router, Echo(""))
    assert [s.name for s in registry.specs()] == ["top", "say", "pick"]


# ---- binding typed text, pressed actions and typed options the same way ---------------------------


async def test_typed_text_is_bound_by_the_spec() -> None:
    assert await reply_text(typed("top week 5")) == "> week:5"
    assert await reply_text(typed("top MONTH")) == "> month:10"
    assert await reply_text(typed('say "quoted" and   spaced -rest')) == '> "quoted" and   spaced -rest'


async def test_structured_values_are_never_resplit() -> None:
    assert await reply_text(structured("top", options=(("mode", "week"), ("n", 3)))) == "> week:3"
    assert await reply_text(structured("say", "two words; top month")) == "> two words; top month"
    assert await reply_text(structured("top", "month", "7")) == "> month:7"


@pytest.mark.parametrize(
    ("invocation", "expected"),
    [
        (typed("top year"), "Unknown period `year`. Use one of: week, month."),
        (typed("top week 99"), "`99` is not a number from 1 to 25."),
        (typed("top week ²"), "`²` is not a number from 1 to 25."),  # str.isdigit() says yes; int() says no
        (typed("top week ٣"), "`٣` is not a number from 1 to 25."),  # Arabic-Indic digits are not ASCII
        (typed("top week 9223372036854775808"), "is not a number from 1 to 25."),
        (typed("top week 5 extra"), "That is more than this command takes. Usage: `/papers top week|month [N]`."),
        (typed("top"), "`top` needs week|month. Usage: `/papers top week|month [N]`."),
        (typed('top "week'), "The quote at position 1 is never closed."),
        (typed("say"), "Say something."),
        (structured("top", options=(("mode", "week"), ("evil", "subscribe pwned"))), "`evil` is not an option"),
        (structured("top", "week", "5", "6"), "That is more than this command takes."),
        (structured("top", options=(("mode", "week"), ("n", 0))), "`0` is not a number from 1 to 25."),
    ],
)
async def test_bad_input_gets_a_specific_private_error(invocation: CommandInvocation, expected: str) -> None:
    assert expected in await error_text(invocation)


async def test_unknown_commands_suggest_the_closest() -> None:
    assert "Did you mean `top`?" in await error_text(typed("tpo week"))


async def test_manager_commands_refuse_others_and_change_nothing() -> None:
    assert "Only channel managers can use `say`" in await error_text(typed("say hi", manager=False))


async def test_suggestions_come_from_the_parameters_suggester() -> None:
    found = await engine().suggest(structured("pick"), "choice", "ab")
    assert found == [Suggestion("> ab", "ab")]
    assert await engine().suggest(structured("top"), "mode", "w") == []


# ---- the real families ----------------------------------------------------------------------------


def test_the_real_families_build_and_describe_every_parameter() -> None:
    specs = command_specs()
    assert [s.name for s in specs] == [c.name for r in ROUTERS for c in r.commands]
    assert len({s.name for s in specs}) == len(specs)
    for spec in specs:
        assert spec.summary and len(spec.summary) <= 100, spec.name
        for param in spec.params:
            assert param.description, (spec.name, param.name)


def test_every_action_the_core_offers_names_a_command_that_takes_its_arguments() -> None:
    # Every button is also a typed command: its command exists, and its arguments fit its parameters.
    specs = {s.name: s for s in command_specs()}
    offered = [*paper_actions(paper("2402.17764")), *topic_actions(12)]
    for action in offered:
        assert action.command in specs, action
        assert len(action.args) <= len(specs[action.command].params), action
        assert codec.fits(action) and codec.decode(codec.encode(action)) == type(action)(action.command, action.args)


async def test_a_pressed_action_runs_like_the_typed_command() -> None:
    # `similar` from a button and typed, through the real papers family (its store answers "unknown").
    class NoPapers:
        async def get(self, paper_id: str) -> None:
            return None

    registry = CommandRegistry().include(papers.router, papers.PaperServices(NoPapers(), None, None))  # type: ignore[arg-type]
    core = Engine(registry)
    pressed: Sequence[Message] = await core.handle(structured("similar", "2402.17764"))
    typed_: Sequence[Message] = await core.handle(typed("similar 2402.17764"))
    assert pressed == typed_
    (reply,) = pressed
    assert isinstance(reply, TextReply) and "does not know the arXiv paper `2402.17764`" in reply.text

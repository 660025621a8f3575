"""The command parser and every handler behind it, on generated text and structured values.

Through the real engine and storage (SQLite with the sample): any input is answered, a bad one with a
specific error, never the generic internal-error reply or a traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.engine import GENERIC_FAILURE
from bot.types import ChannelRef, CommandInvocation, Permission, Platform, TextReply, UserRef
from tests.fuzz.stack import FUZZ, MORNING, Stack
from tests.fuzz.strategies import COMMANDS, PARAMS, command_text, hostile_text

HERE = ChannelRef(Platform.CONSOLE, "W1", "C1")
values = st.one_of(hostile_text, st.integers(min_value=-(2**80), max_value=2**80))
structured = st.tuples(
    st.sampled_from(COMMANDS) | st.text(max_size=8),
    st.lists(hostile_text, max_size=4).map(tuple),
    st.lists(st.tuples(st.sampled_from(PARAMS) | st.text(max_size=8), values), max_size=4).map(tuple),
)


def test_generated_commands_never_fail_internally(tmp_path: Path, clean_log: Callable[[], None]) -> None:
    with asyncio.Runner() as runner:
        stack = runner.run(Stack.start(tmp_path))
        try:

            @FUZZ
            @given(text=command_text, call=structured, manager=st.booleans(), dm=st.booleans())
            def one(
                text: str,
                call: tuple[str, tuple[str, ...], tuple[tuple[str, str | int], ...]],
                manager: bool,
                dm: bool,
            ) -> None:
                typed = CommandInvocation(HERE, UserRef("U1"), text, Permission(manager), MORNING, is_direct_message=dm)
                command, args, options = call
                pressed = CommandInvocation(
                    HERE,
                    UserRef("U1"),
                    command,
                    Permission(manager),
                    MORNING,
                    command=command,
                    args=args,
                    options=options,
                )
                for invocation in (typed, pressed):
                    replies = runner.run(stack.app.engine.handle(invocation))
                    assert replies, invocation
                    for reply in replies:
                        assert not (isinstance(reply, TextReply) and reply.text == GENERIC_FAILURE), invocation
                clean_log()

            one()
        finally:
            runner.run(stack.stop())

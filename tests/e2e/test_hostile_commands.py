"""Hostile and clumsy input through the real engine and storage: a specific private error, nothing changed.

The inputs are the ones a probe of the running bot found answered with "Something went wrong" (a
traceback in the log) or taken wrongly; each must now be refused with a message the user can act on.
"""

from __future__ import annotations

import dataclasses

import pytest

from bot.commands import MAX_INPUT_LENGTH
from bot.engine import GENERIC_FAILURE
from bot.types import CommandInvocation, Permission, TextReply, TopicList, UserRef
from tests.e2e.conftest import HERE, Harness


async def error_of(harness: Harness, text: str) -> str:
    (reply,) = await harness.say(text)
    assert isinstance(reply, TextReply), reply
    assert reply.is_error and reply.private, reply
    assert reply.text != GENERIC_FAILURE, text
    return reply.text


pytestmark = pytest.mark.usefixtures("no_tracebacks")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest at 09:00 America", "not an IANA timezone"),
        ("digest at 09:00 Etc", "not an IANA timezone"),
        ("digest at 09:00 " + "A" * 256, "not an IANA timezone"),
        ("digest at 09:00 ../../../../etc/passwd", "not an IANA timezone"),
        ("digest at 09:00 Europe/Pariss", "did you mean Europe/Paris"),
        ("digest at ٠٩:٠٠", "not a time of day"),
        ("digest at 09:00\n", None),
        ("today ²", "not a number of papers"),
        ("today ٣", "not a number of papers"),
        ("top week ¹", "not a number of papers"),
        ("settings max ²", "takes a number from 1 to 25"),
        ("settings max " + "5" * 5000, "too long"),
        ("unsubscribe ³", "no topic"),
        ("unsubscribe ٣", "no topic"),
        ("unsubscribe 9223372036854775808", "no topic"),
        ("unsubscribe " + "9" * 400, "no topic"),
        ("subscribe moe\x00x", "control character (U+0000) at position 14"),
        ("search moe\x1bx", "control character (U+001B)"),
        ("search moe \u202eevil", "control character (U+202E)"),
        ("search a\ud800b", "control character (U+D800)"),
        ("x\x00", "control character"),
        ("search " + "x" * 6000, "too long (6,007 characters"),
        ("search " + "x" * 400, "query is too long (400 characters"),
    ],
)
async def test_bad_input_gets_a_specific_error(harness: Harness, text: str, expected: str | None) -> None:
    if expected is None:  # a trailing newline is whitespace, as in a Slack message box
        (reply,) = await harness.say(text)
        assert not (isinstance(reply, TextReply) and reply.is_error), reply
        return
    message = await error_of(harness, text)
    assert expected in message
    assert len(message) < 400, "an error never echoes everything back"


async def test_arabic_indic_digits_do_not_remove_topic_three(harness: Harness) -> None:
    for query in ("moe", "diffusion", "agent"):
        await harness.one(f"subscribe {query}")
    topics = await harness.one("topics")
    assert isinstance(topics, TopicList)
    assert [t.id for t in topics.topics] == [1, 2, 3]
    for three in ("٣", "³", "３"):  # Arabic-Indic, superscript, fullwidth: str.isdigit() takes all three
        assert "no topic" in await error_of(harness, f"unsubscribe {three}")
    still = await harness.one("topics")
    assert isinstance(still, TopicList) and len(still.topics) == 3


async def test_a_control_character_stores_nothing(harness: Harness) -> None:
    assert "control character" in await error_of(harness, "subscribe moe\x00x")
    assert await harness.app.db.subscriptions.count(HERE) == 0
    assert await harness.app.db.channels.get(HERE) is None, "not even the channel row"


def structured(harness: Harness, command: str, *args: str, **options: str | int) -> CommandInvocation:
    return CommandInvocation(
        channel=HERE,
        user=UserRef("U1"),
        text=command,
        permission=Permission(True),
        received_at=harness.clock.now(),
        command=command,
        args=args,
        options=tuple(options.items()),
    )


@pytest.mark.parametrize(
    ("command", "args", "options", "expected"),
    [
        ("unsubscribe", ("³",), {}, "no topic"),
        ("unsubscribe", ("",), {}, "Usage"),
        ("unsubscribe", ("9" * 40,), {}, "no topic"),
        ("today", (), {"n": 10**30}, "not a number of papers"),
        ("today", (), {"n": -(10**30)}, "not a number of papers"),
        ("today", (), {"n": "²"}, "not a number of papers"),
        ("settings", (), {"key": "max", "value": "5" * 5000}, "too long"),
        ("search", (), {"query": "llm", "evil": "subscribe pwned"}, "`evil` is not an option of `search`"),
        ("search", (), {"query": "moe\x00"}, "control character"),
        ("subscribe", (), {"query\x00": "moe"}, "control character"),
        ("digest", (), {"action": "at", "time": "09:00", "timezone": "Etc"}, "not an IANA timezone"),
        ("digest", (), {"action": "at", "time": "09:00 Europe/Paris"}, "not a time of day"),
        ("top", ("week", "3", "extra"), {}, "more than this command takes"),
    ],
)
async def test_structured_values_are_bound_by_the_same_rules(
    harness: Harness, command: str, args: tuple[str, ...], options: dict[str, str | int], expected: str
) -> None:
    (reply,) = await harness.app.engine.handle(structured(harness, command, *args, **options))
    assert isinstance(reply, TextReply) and reply.is_error and reply.text != GENERIC_FAILURE, reply
    assert expected in reply.text
    assert await harness.app.db.subscriptions.count(HERE) == 0


async def test_a_value_with_spaces_stays_one_value(harness: Harness) -> None:
    inv = structured(harness, "subscribe", query='"mixture of experts" -survey')
    (reply,) = await harness.app.engine.handle(inv)
    assert not (isinstance(reply, TextReply) and reply.is_error), reply
    (sub,) = await harness.app.db.subscriptions.list(HERE)
    assert sub.query == '"mixture of experts" -survey'


async def test_a_timezone_is_stored_in_its_canonical_spelling(harness: Harness) -> None:
    await harness.one("digest at 08:30 europe/paris")
    channel = await harness.app.db.channels.get(HERE)
    assert channel is not None and channel.timezone == "Europe/Paris"


def test_the_input_limit_is_above_every_real_value() -> None:
    from bot.query import MAX_QUERY_LENGTH

    assert MAX_QUERY_LENGTH + len("subscribe ") < MAX_INPUT_LENGTH
    assert dataclasses.is_dataclass(CommandInvocation)

"""The channel's library through the real engine and storage: save, unsave, library, the Save button."""

from __future__ import annotations

from datetime import timedelta

from bot.actions import SAVE, decode, encode
from bot.types import Action, CommandInvocation, PaperList, Permission, TextReply, UserRef
from tests.e2e.conftest import HERE, OTHER, Harness


async def top_ids(h: Harness, n: int = 3) -> list[str]:
    reply = await h.one(f"today {n}")
    assert isinstance(reply, PaperList)
    return [p.paper.id for p in reply.papers]


async def library(h: Harness, text: str = "library", channel: object = HERE) -> PaperList:
    reply = await h.one(text, channel)  # type: ignore[arg-type]
    assert isinstance(reply, PaperList), reply
    return reply


async def test_saved_papers_are_listed_newest_first_with_who_saved_them(harness: Harness) -> None:
    first, second, _ = await top_ids(harness)
    saved = await harness.one(f"save {first}", user="U_ADA")
    assert isinstance(saved, TextReply) and not saved.is_error and first in saved.text
    harness.clock.advance(timedelta(hours=1))
    await harness.one(f"save https://arxiv.org/abs/{second}v2", user="U_BOB")
    listed = await library(harness)
    assert [p.paper.id for p in listed.papers] == [second, first]
    assert listed.papers[0].note.startswith("saved by U_BOB on ")
    assert listed.papers[1].note.startswith("saved by U_ADA on ")
    assert all(any(a.command == SAVE for a in p.actions) for p in listed.papers)


async def test_saving_twice_keeps_one_entry_and_says_who_saved_it_first(harness: Harness) -> None:
    [paper] = await top_ids(harness, 1)
    await harness.one(f"save {paper}", user="U_ADA")
    again = await harness.one(f"save {paper}", user="U_BOB")
    assert isinstance(again, TextReply) and again.private and "already" in again.text and "U_ADA" in again.text
    assert [p.paper.id for p in (await library(harness)).papers] == [paper]


async def test_unsave_removes_and_an_unknown_unsave_changes_nothing(harness: Harness) -> None:
    a, b, _ = await top_ids(harness)
    await harness.one(f"save {a}")
    await harness.one(f"save {b}")
    refused = await harness.one("unsave 2101.00001")
    assert isinstance(refused, TextReply) and refused.is_error and "not in this channel's library" in refused.text
    assert len((await library(harness)).papers) == 2
    await harness.one(f"unsave {a}")
    assert [p.paper.id for p in (await library(harness)).papers] == [b]


async def test_library_filters_with_the_topic_query_language(harness: Harness) -> None:
    ids = await top_ids(harness, 5)
    for paper in ids:
        await harness.one(f"save {paper}")
    everything = await library(harness)
    target = everything.papers[0].paper
    word = max(target.title.split(), key=len).strip('",.:;()?!')
    filtered = await library(harness, f'library title:"{word}"')
    assert target.id in [p.paper.id for p in filtered.papers]
    assert all(word.casefold() in p.paper.title.casefold() for p in filtered.papers)
    assert all(p.matched for p in filtered.papers)
    bad = await harness.one('library "unclosed')
    assert isinstance(bad, TextReply) and bad.is_error


async def test_one_channels_library_never_shows_in_another(harness: Harness) -> None:
    [paper] = await top_ids(harness, 1)
    await harness.one(f"save {paper}", HERE)
    other = await library(harness, channel=OTHER)
    assert other.papers == ()
    refused = await harness.one(f"unsave {paper}", OTHER)
    assert isinstance(refused, TextReply) and refused.is_error
    assert [p.paper.id for p in (await library(harness)).papers] == [paper]


async def test_the_save_button_is_the_save_command(harness: Harness) -> None:
    [paper] = await top_ids(harness, 1)
    action = decode(encode(Action(SAVE, (paper,))))
    assert action is not None
    pressed = CommandInvocation(
        channel=HERE,
        user=UserRef("U_ADA", "Ada"),
        text="",
        permission=Permission(False, "channel managers"),
        received_at=harness.clock.now(),
        command=action.command,
        args=action.args,
    )
    [reply] = await harness.app.engine.handle(pressed)
    assert isinstance(reply, TextReply) and not reply.is_error
    assert (await library(harness)).papers[0].note.startswith("saved by Ada on ")


async def test_saving_an_unknown_paper_offline_is_refused_and_stores_nothing(harness: Harness) -> None:
    reply = await harness.one("save 2101.00001")
    assert isinstance(reply, TextReply) and reply.is_error and "does not know" in reply.text
    assert (await library(harness)).papers == ()
    bad = await harness.one("save not-a-paper")
    assert isinstance(bad, TextReply) and bad.is_error

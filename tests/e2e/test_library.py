"""The channel's library through the real engine and storage: save, unsave, library, the Save button."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from bot.actions import SAVE, decode, encode
from bot.config import ArxivSettings, HfSettings, Settings
from bot.types import (
    WEEKDAYS,
    Action,
    CommandInvocation,
    ExportFile,
    PaperList,
    Permission,
    TextReply,
    UserRef,
    WeeklyRollup,
)
from tests.e2e.conftest import HERE, OTHER, Harness, open_harness
from tests.fakes.arxiv import serve_fake_arxiv
from tests.fakes.hf import serve_fake_hub


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


async def test_a_paper_the_hub_never_listed_is_fetched_from_arxiv_and_saved(tmp_path: Path, seeded_db: Path) -> None:
    # 2510.14827 is in the recorded arXiv response and not in the Hub's archive: the fake Hub answers 404.
    with serve_fake_hub() as hub, serve_fake_arxiv() as arxiv:
        settings = Settings(
            data_dir=tmp_path,
            offline=False,
            hf=HfSettings(endpoint=hub.url, timeout=5),
            arxiv=ArxivSettings(api_url=arxiv.url, min_interval=0.01),
        )
        async with open_harness(tmp_path, seeded_db, settings) as h:
            reply = await h.one("save 2510.14827")
            assert isinstance(reply, TextReply) and not reply.is_error, reply
            [saved] = (await library(h)).papers
            assert saved.paper.id == "2510.14827" and saved.paper.title.startswith("Neural Implicit Flow Fields")
            assert [r.params.get("id_list") for r in arxiv.requests] == ["2510.14827"]
            unknown = await h.one("save 2101.00001")  # known to neither: refused, nothing stored
            assert isinstance(unknown, TextReply) and unknown.is_error and "does not know" in unknown.text
            assert len((await library(h)).papers) == 1


# ---------------------------------------------------------------------------------------------
# Reading together


async def test_reading_lists_who_reads_and_who_presents_when(harness: Harness) -> None:
    a, b, _ = await top_ids(harness)
    read = await harness.one(f"read {a}", user="U_ADA")
    assert isinstance(read, TextReply) and not read.is_error and "U_ADA is reading" in read.text
    again = await harness.one(f"read {a}", user="U_ADA")
    assert isinstance(again, TextReply) and again.private and "already" in again.text
    day = harness.clock.now().date() + timedelta(days=3)
    talk = await harness.one(f"present {b} on {day.isoformat()}", user="U_BOB")
    assert isinstance(talk, TextReply) and not talk.is_error and "U_BOB presents" in talk.text
    listed = await harness.one("reading")
    assert isinstance(listed, PaperList)
    notes = {p.paper.id: p.note for p in listed.papers}
    assert notes[a] == "read by U_ADA"
    assert notes[b].startswith("U_BOB presents on ") and str(day.day) in notes[b]
    assert listed.papers[0].paper.id == b, "talks first"
    # Both papers are in the library too: reading one is keeping it.
    assert {a, b} <= {p.paper.id for p in (await library(harness)).papers}
    # Another channel sees none of it.
    other = await harness.one("reading", OTHER)
    assert isinstance(other, PaperList) and other.papers == ()


async def test_presenting_again_moves_the_talk_and_bad_days_change_nothing(harness: Harness) -> None:
    [paper] = await top_ids(harness, 1)
    today = harness.clock.now().date()
    button = await harness.one(f"present {paper}", user="U_ADA")  # the button: a week ahead
    week = today + timedelta(days=7)
    assert isinstance(button, TextReply) and str(week.day) in button.text and "Another day" in button.text
    for bad, why in (
        (f"present {paper} on yesterday", "is not a day"),
        (f"present {paper} on {(today - timedelta(days=1)).isoformat()}", "has passed"),
        (f"present {paper} on {(today + timedelta(days=400)).isoformat()}", "more than a year"),
    ):
        refused = await harness.one(bad, user="U_BOB")
        assert isinstance(refused, TextReply) and refused.is_error and why in refused.text, (bad, refused)
    moved = await harness.one(f"present {paper} on {(today + timedelta(days=2)).isoformat()}", user="U_BOB")
    assert isinstance(moved, TextReply) and "It was U_ADA's" in moved.text
    listed = await harness.one("reading")
    assert isinstance(listed, PaperList)
    assert [p.note.startswith("U_BOB presents") for p in listed.papers] == [True]


async def test_the_day_before_a_talk_the_channel_is_reminded_once(harness: Harness) -> None:
    [paper] = await top_ids(harness, 1)
    await harness.one("digest at 09:00 UTC")
    talk_day = harness.clock.now().date() + timedelta(days=2)
    await harness.one(f"present {paper} on {talk_day.isoformat()}", user="U_ADA")
    reminders = harness.app.jobs.get("reminders")
    assert await reminders.run() == "no journal club reminders due"  # two days before: not yet
    eve = datetime.combine(talk_day - timedelta(days=1), time(8, 30), UTC)
    harness.clock.set(eve)
    assert await reminders.run() == "no journal club reminders due", "before the channel's digest time"
    harness.clock.set(eve + timedelta(hours=1))
    assert await reminders.run() == "1 journal club reminders: 1 sent"
    assert await reminders.run() == "no journal club reminders due", "posted once"
    posted = [m for m in harness.chat.in_channel(HERE) if isinstance(m, TextReply)]
    assert len(posted) == 1 and "U_ADA presents" in posted[0].text and paper in posted[0].text
    assert harness.chat.in_channel(OTHER) == []


async def test_the_weekly_rollup_lists_what_the_channel_read_and_presented(harness: Harness) -> None:
    a, b, _ = await top_ids(harness)
    now = harness.clock.now()
    await harness.one("digest at 09:00 UTC")
    await harness.one(f"settings weekly on {WEEKDAYS[(now.weekday() + 3) % 7]}")
    await harness.one(f"read {a}", user="U_ADA")
    await harness.one(f"present {b} on {(now.date() + timedelta(days=1)).isoformat()}", user="U_BOB")
    harness.clock.set(datetime.combine(now.date() + timedelta(days=3), time(10, 0), UTC))
    assert await harness.app.jobs.get("weekly").run() == "1 weekly rollups: 1 sent"
    [rollup] = [m for m in harness.chat.in_channel(HERE) if isinstance(m, WeeklyRollup)]
    lines = {p.id: line for p, line in rollup.reading}
    assert lines[a] == "read by U_ADA"
    assert lines[b].startswith("presented by U_BOB on ")


async def test_export_gives_the_channel_a_file_that_reads_back(harness: Harness) -> None:
    from tests.golden import read_bibtex

    ids = await top_ids(harness)
    for paper in ids:
        await harness.one(f"save {paper}")
    file = await harness.one("export bibtex")
    assert isinstance(file, ExportFile) and not file.private
    assert file.filename == "paperboy-library.bib" and "3 papers" in file.summary
    assert sorted(e["eprint"] for e in read_bibtex(file.content)) == sorted(ids)
    ris = await harness.one("export ris")
    assert isinstance(ris, ExportFile) and ris.content.count("ER  - ") == 3
    empty = await harness.one("export csljson", OTHER)
    assert isinstance(empty, TextReply) and empty.is_error and "nothing to export" in empty.text
    bad = await harness.one("export pdf")
    assert isinstance(bad, TextReply) and bad.is_error and "bibtex, ris, csljson" in bad.text

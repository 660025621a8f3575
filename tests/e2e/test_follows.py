"""Personal follows end to end: `follow`, the daily DM through the digest's delivery, isolation, pauses.

A person's follows are the topics of their direct messages (`ChannelRef.dm`); the DM goes out through
the same claim as a channel's digest, so the tests judge what the memory adapter shows the person.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

from bot.channels import DM_SETTINGS
from bot.digest_run import RunOutcome
from bot.errors import PermanentDeliveryError
from bot.types import (
    ChannelRef,
    CommandInvocation,
    Digest,
    DigestReason,
    PaperList,
    Permission,
    TextReply,
    TopicList,
    UserRef,
)
from tests.e2e.conftest import HERE, OTHER, Harness

ME = ChannelRef.dm(HERE.platform, HERE.workspace_id, "U1")
ELSEWHERE = ChannelRef(HERE.platform, "W2", HERE.channel_id)


def text_of(message: object) -> str:
    assert isinstance(message, TextReply), message
    return message.text


async def _follow_early(h: Harness, query: str, *, user: str = "U1", channel: ChannelRef = HERE) -> None:
    """`follow query`, three weeks before the sample's days, so the sample's papers are new to it."""
    h.clock.advance(timedelta(days=-21))
    try:
        replies = await h.say(f"follow {query}", channel, user=user, manager=False)
        assert isinstance(replies[0], PaperList) and replies[0].private, replies
    finally:
        h.clock.advance(timedelta(days=21))


def _dms(h: Harness, ref: ChannelRef = ME) -> list[Digest]:
    found = [m for m in h.chat.in_channel(ref) if isinstance(m, Digest)]
    assert len(found) == len(h.chat.in_channel(ref)), h.chat.in_channel(ref)
    return found


async def test_follow_is_private_and_the_channel_never_sees_it(harness: Harness) -> None:
    reply = await harness.one('follow moe OR "mixture of experts"', manager=False)
    assert isinstance(reply, PaperList) and reply.private
    assert reply.heading.startswith('You follow `moe OR "mixture of experts"` (follow #')
    assert "by direct message daily at" in (reply.note or "")
    topics = await harness.one("topics")
    assert isinstance(topics, TopicList) and topics.topics == ()
    listed = (await harness.say("following"))[0]
    assert isinstance(listed, TopicList) and listed.personal and listed.private
    assert [(t.query, [(a.command, a.args) for a in t.actions]) for t in listed.topics] == [
        ('moe OR "mixture of experts"', [("follow", (f"stop {listed.topics[0].id}",))])
    ]
    assert (await harness.say("follow list")) == (await harness.say("following"))
    dm = await harness.app.db.channels.get(ME)
    assert dm is not None and dm.settings == DM_SETTINGS


async def test_the_daily_dm_brings_new_matches_once_and_never_trending(harness: Harness) -> None:
    await _follow_early(harness, "agent")
    run = await harness.app.runner.run(ME)
    assert run.outcome is RunOutcome.SENT and run.papers > 0
    (dm,) = _dms(harness)
    assert all(e.reason is DigestReason.TOPIC and "agent" in " ".join(e.matched) for e in dm.entries)
    assert len(dm.entries) <= DM_SETTINGS.max_papers
    again = await harness.app.runner.run(ME)
    assert again.outcome is RunOutcome.ALREADY and len(_dms(harness)) == 1
    # The next day: nothing new arrived, so no DM at all (never an empty one), and nothing is sent twice.
    harness.clock.advance(timedelta(days=1))
    later = await harness.app.runner.run(ME)
    assert later.outcome is RunOutcome.EMPTY and len(_dms(harness)) == 1


async def test_two_follows_matching_one_paper_bring_it_once(harness: Harness) -> None:
    await _follow_early(harness, "agent")
    await _follow_early(harness, "agents OR agentic")
    await harness.app.runner.run(ME)
    (dm,) = _dms(harness)
    ids = [e.paper.id for e in dm.entries]
    assert len(ids) == len(set(ids))


async def test_follow_at_sets_the_dm_time_and_bad_times_change_nothing(harness: Harness) -> None:
    await harness.one("follow agent")
    reply = text_of(await harness.one("follow at 07:15 Europe/Paris"))
    assert "daily at 07:15 Europe/Paris" in reply
    dm = await harness.app.db.channels.get(ME)
    assert dm is not None and (dm.digest_time, dm.timezone) == (time(7, 15), "Europe/Paris")
    for bad, why in (("follow at 25:00", "not a time of day"), ("follow at 07:00 Mars/Olympus", "IANA timezone")):
        refused = await harness.one(bad)
        assert isinstance(refused, TextReply) and refused.is_error and why in refused.text
    dm = await harness.app.db.channels.get(ME)
    assert dm is not None and (dm.digest_time, dm.timezone) == (time(7, 15), "Europe/Paris")
    assert "next:" in text_of(await harness.one("follow at 06:00"))


async def test_unfollow_by_id_or_query_and_mistakes_say_why(harness: Harness) -> None:
    await harness.one("follow agent")
    await harness.one("follow diffusion")
    listed = (await harness.say("following"))[0]
    assert isinstance(listed, TopicList)
    first, _ = listed.topics
    assert "no longer follow `agent`" in text_of(await harness.one(f"unfollow {first.id}"))
    assert "no longer follow `diffusion`" in text_of(await harness.one("unfollow diffusion"))
    missing = await harness.one("unfollow 12345")
    assert isinstance(missing, TextReply) and missing.is_error and "`following` lists" in missing.text
    twice = await harness.one("follow agent")
    assert isinstance(twice, PaperList)
    dup = await harness.one("follow agent")
    assert isinstance(dup, TextReply) and dup.is_error and "already follow" in dup.text
    bad = await harness.one('follow "unclosed')
    assert isinstance(bad, TextReply) and bad.is_error and "does not parse" in bad.text
    empty = await harness.one("follow")
    assert isinstance(empty, TextReply) and empty.is_error and "Give a query" in empty.text
    assert len(await harness.app.db.subscriptions.list(ME)) == 1


async def test_follows_belong_to_one_person_in_one_workspace(harness: Harness) -> None:
    await _follow_early(harness, "agent", user="U1")
    await _follow_early(harness, "diffusion", user="U1", channel=ELSEWHERE)
    mine = (await harness.say("following", OTHER, user="U1"))[0]
    assert isinstance(mine, TopicList) and [t.query for t in mine.topics] == ["agent"]
    theirs = (await harness.say("following", user="U2"))[0]
    assert isinstance(theirs, TopicList) and theirs.topics == ()
    there = (await harness.say("following", ELSEWHERE, user="U1"))[0]
    assert isinstance(there, TopicList) and [t.query for t in there.topics] == ["diffusion"]
    missing = await harness.one("unfollow agent", ELSEWHERE)
    assert isinstance(missing, TextReply) and missing.is_error
    await harness.app.runner.run(ME)
    await harness.app.runner.run(ChannelRef.dm(ELSEWHERE.platform, ELSEWHERE.workspace_id, "U1"))
    (here,) = _dms(harness)
    (away,) = _dms(harness, ChannelRef.dm(ELSEWHERE.platform, ELSEWHERE.workspace_id, "U1"))
    assert all("agent" in " ".join(e.matched) for e in here.entries)
    assert all("diffusion" in " ".join(e.matched) for e in away.entries)
    assert not _dms(harness, ChannelRef.dm(HERE.platform, HERE.workspace_id, "U2"))


async def test_closed_dms_pause_the_follows_tell_the_person_once_and_follow_on_resumes(harness: Harness) -> None:
    await _follow_early(harness, "agent")
    reason = "Discord would not deliver a direct message to you (50007)."
    harness.chat.fail_next(ME, PermanentDeliveryError(reason))
    run = await harness.app.runner.run(ME)
    assert run.outcome is RunOutcome.PAUSED and not _dms(harness)
    told = await harness.say("today 1", user="U1")
    assert len(told) == 2 and isinstance(told[-1], TextReply) and told[-1].private
    assert reason in told[-1].text and "`/papers follow on`" in told[-1].text
    assert len(await harness.say("today 1", user="U1")) == 1, "told once, not at every command"
    assert len(await harness.say("today 1", user="U2")) == 1, "only the person whose DMs are closed"
    listed = await harness.say("following")
    assert any(isinstance(m, TextReply) and "paused" in m.text for m in listed)
    assert (await harness.app.runner.run(ME)).outcome is RunOutcome.PAUSED
    resumed = text_of(await harness.one("follow on"))
    assert "daily at" in resumed
    # The claim that failed is finished by recovery (the next scheduled pass): the whole DM, once.
    await harness.app.recovery.run()
    (dm,) = _dms(harness)
    assert dm.entries
    assert len(await harness.app.db.subscriptions.list(ME)) == 1, "nothing the person followed was lost"


async def test_follow_off_stops_the_dms_until_follow_on(harness: Harness) -> None:
    await _follow_early(harness, "agent")
    assert "off" in text_of(await harness.one("follow off"))
    await harness.app.scheduler.catch_up()
    assert not _dms(harness)
    await harness.one("follow on")
    dm = await harness.app.db.channels.get(ME)
    assert dm is not None and dm.digest_enabled


async def test_buttons_follow_a_channel_topic_and_papers_like_one(harness: Harness) -> None:
    await harness.one("subscribe agent")
    topics = await harness.one("topics")
    assert isinstance(topics, TopicList)
    (topic,) = topics.topics
    follow = next(a for a in topic.actions if a.label == "Follow this topic")
    assert (follow.command, follow.args) == ("follow", (f"topic {topic.id}",))
    reply = await harness.one(f"follow {follow.args[0]}", manager=False, user="U7")
    assert isinstance(reply, PaperList) and f"this channel's topic #{topic.id}" in reply.heading
    mine = (await harness.say("following", user="U7"))[0]
    assert isinstance(mine, TopicList) and [t.query for t in mine.topics] == ["agent"]

    today = await harness.one("today 1")
    assert isinstance(today, PaperList)
    paper = today.papers[0].paper
    press = next(a for a in today.papers[0].actions if a.label == "DM me papers like this")
    assert (press.command, press.args) == ("follow", (f"like {paper.id}",))
    liked = await harness.one(f"follow like {paper.id}", user="U8")
    assert isinstance(liked, PaperList) and f"papers like {paper.id}" in liked.heading
    (follow_like,) = await harness.app.db.subscriptions.list(ChannelRef.dm(HERE.platform, HERE.workspace_id, "U8"))
    keywords = [k.casefold() for k in paper.ai_keywords]
    assert follow_like.query.count(" OR ") <= 2
    assert all(part.strip('"').casefold() in keywords for part in follow_like.query.split(" OR "))
    unknown = await harness.one("follow like 2401.99999")
    assert isinstance(unknown, TextReply) and unknown.is_error and "not stored" in unknown.text
    in_dm = await harness.one(f"follow topic {topic.id}", dm=True)
    assert isinstance(in_dm, TextReply) and in_dm.is_error


async def test_follow_forms_that_do_not_fit_say_how_and_change_nothing(harness: Harness) -> None:
    for typed, why in (
        ("follow like not-an-id", "follow like <arXiv id>"),
        ("follow stop", "unfollow <id|query>"),
        ("unfollow", "unfollow <id|query>"),
        ("follow at 9", "not a time of day"),
    ):
        refused = await harness.one(typed)
        assert isinstance(refused, TextReply) and refused.is_error and why in refused.text, (typed, refused)
    assert await harness.app.db.channels.get(ME) is None
    # A query that only looks like a form is still a query once quoted.
    quoted = await harness.one('follow "list"')
    assert isinstance(quoted, PaperList) and quoted.heading.startswith('You follow `"list"`')
    # The Slack Home tab asks by command name, as a structured invocation in the person's DM.
    home = CommandInvocation(
        channel=ME,
        user=UserRef("U1"),
        text="following",
        permission=Permission(False),
        received_at=harness.clock.now(),
        is_direct_message=True,
        command="following",
    )
    listed = await harness.app.engine.handle(home)
    assert isinstance(listed[0], TopicList) and [t.query for t in listed[0].topics] == ['"list"']
    stop = replace(home, command="unfollow", args=(str(listed[0].topics[0].id),))
    assert "no longer follow" in text_of((await harness.app.engine.handle(stop))[0])


async def test_a_dm_made_by_any_command_first_still_shows_only_follows(harness: Harness) -> None:
    """A Home-tab press runs in the person's DM; the DM row it makes must not start a trending DM."""
    today = await harness.one("today 1")
    assert isinstance(today, PaperList)
    pressed = await harness.say(f"like {today.papers[0].paper.id}", ME, dm=True)
    assert not any(isinstance(m, TextReply) and m.is_error for m in pressed), pressed
    dm = await harness.app.db.channels.get(ME)
    assert dm is not None and dm.settings == DM_SETTINGS
    assert (await harness.app.runner.run(ME)).outcome is RunOutcome.EMPTY


async def test_a_failing_notice_never_costs_the_command_its_answer(harness: Harness) -> None:
    async def broken(_: CommandInvocation) -> list[TextReply]:
        raise RuntimeError("the notices broke")

    harness.app.engine._notices = broken
    replies = await harness.say("today 1")
    assert len(replies) == 1 and isinstance(replies[0], PaperList)

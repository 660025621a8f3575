"""Feedback end to end: 👍/👎 as typed commands, what they change in a channel's digest, `why`.

Votes belong to the channel they were cast in: another channel's, or another workspace's, never
touch this channel's order (the isolation tests below compare whole digests).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.learning import MIN_VOTES
from bot.types import ChannelRef, Digest, PaperList, Platform, TextReply, TopicList
from tests.e2e.conftest import HERE, OTHER, Harness

ELSEWHERE = ChannelRef(HERE.platform, "W2", HERE.channel_id)
"""The same channel id in another workspace."""


def text_of(message: object) -> str:
    assert isinstance(message, TextReply), message
    return message.text


async def _topic_channel(h: Harness, channel: ChannelRef = HERE) -> list[str]:
    """A channel following `agent` since before the sample's days; the matching papers, best first."""
    h.clock.advance(timedelta(days=-20))
    await h.one("subscribe agent", channel)
    h.clock.advance(timedelta(days=20))
    await h.one("settings trending off", channel)
    await h.one("settings max 3", channel)
    found = await h.one("search agent")
    assert isinstance(found, PaperList) and len(found.papers) >= MIN_VOTES + 3
    return [p.paper.id for p in found.papers]


async def _preview(h: Harness, channel: ChannelRef = HERE) -> Digest:
    digest = await h.one("digest preview", channel)
    assert isinstance(digest, Digest)
    return digest


def _shape(digest: Digest) -> list[tuple[str, object]]:
    return [(e.paper.id, e.learned) for e in digest.entries]


async def test_like_is_acknowledged_privately_and_taken_back_by_the_same_press(harness: Harness) -> None:
    today = await harness.one("today 3")
    assert isinstance(today, PaperList)
    paper = today.papers[0].paper.id
    assert [a.command for a in today.papers[0].actions] == ["like", "dislike", "similar", "save", "follow"]
    first = await harness.one(f"like {paper}")
    assert isinstance(first, TextReply) and first.private and not first.is_error
    assert first.text.startswith("Noted: this channel will see more papers like")
    assert "1 so far" in first.text
    assert (await harness.app.db.votes.count(HERE)) == 1
    again = text_of(await harness.one(f"like {paper}"))
    assert again.startswith("Taken back") and "0 so far" in again
    down = text_of(await harness.one(f"dislike https://arxiv.org/abs/{paper}v2"))
    assert "fewer papers like" in down
    assert [(v.paper_id, v.value) for v in await harness.app.db.votes.list(HERE)] == [(paper, -1)]


async def test_one_vote_per_user_and_anyone_may_vote(harness: Harness) -> None:
    today = await harness.one("today 1")
    assert isinstance(today, PaperList)
    paper = today.papers[0].paper.id
    await harness.one(f"like {paper}", user="U1", manager=False)
    await harness.one(f"like {paper}", user="U2", manager=False)
    await harness.one(f"dislike {paper}", user="U3", manager=False)
    why = text_of(await harness.one(f"why {paper}", user="U2"))
    assert "Votes here: 👍 2 · 👎 1 (yours: 👍)" in why


async def test_bad_votes_say_why_and_change_nothing(harness: Harness) -> None:
    unknown = await harness.one("like 2401.99999")
    assert isinstance(unknown, TextReply) and unknown.is_error and "does not know" in unknown.text
    malformed = await harness.one("dislike not-a-paper")
    assert isinstance(malformed, TextReply) and malformed.is_error
    missing = await harness.one("like")
    assert isinstance(missing, TextReply) and missing.is_error and "like" in missing.text
    assert await harness.app.db.votes.count(HERE) == 0


async def test_votes_reorder_the_topic_section_and_say_so(harness: Harness) -> None:
    ids = await _topic_channel(harness)
    before = await _preview(harness)
    assert before.entries and all(e.learned is None for e in before.entries)
    # The channel likes the papers the plain order leaves out.
    liked = ids[3 : 3 + MIN_VOTES]
    for paper in liked:
        await harness.one(f"like {paper}")
    after = await _preview(harness)
    assert all(e.matched for e in after.entries), "every entry still matches the channel's topic"
    effects = [e.learned for e in after.entries if e.learned is not None]
    assert effects and all(e.direction == 1 for e in effects)
    titles = {p.title for p in (await harness.app.db.papers.get_many(liked)).values()}
    assert all(" ".join(t.split())[:100] in titles for t in (e.example for e in effects))
    why = text_of(await harness.one(f"why {after.entries[0].paper.id}"))
    assert "topic #" in why and "`agent`" in why and "Upvotes:" in why and "Recency:" in why
    assert "Learned effect: ranked up" in why or "Learned effect: about neutral" in why


async def test_another_channels_votes_never_touch_this_channels_digest(harness: Harness) -> None:
    ids = await _topic_channel(harness)
    await _topic_channel(harness, OTHER)
    await _topic_channel(harness, ELSEWHERE)
    before = _shape(await _preview(harness))
    for paper in ids[3 : 3 + MIN_VOTES + 2]:
        await harness.one(f"like {paper}", OTHER)
        await harness.one(f"like {paper}", ELSEWHERE, user="U9")
    assert _shape(await _preview(harness)) == before
    assert any(e.learned for e in (await _preview(harness, OTHER)).entries)
    why = text_of(await harness.one(f"why {ids[3]}"))
    assert "Votes here: 👍 0 · 👎 0" in why and "0 so far" in why


async def test_learning_off_restores_the_plain_order_and_votes_shown_adds_counts(harness: Harness) -> None:
    ids = await _topic_channel(harness)
    plain = _shape(await _preview(harness))
    for paper in ids[3 : 3 + MIN_VOTES]:
        await harness.one(f"like {paper}")
    assert _shape(await _preview(harness)) != plain
    settings = text_of(await harness.one("settings learning off"))
    assert "learning off" in settings
    assert _shape(await _preview(harness)) == plain
    assert "learning is off" in text_of(await harness.one(f"why {ids[0]}"))
    await harness.one("settings learning auto")
    await harness.one("settings votes shown")
    shown = await _preview(harness)
    assert all(e.votes is not None for e in shown.entries)
    assert "`votes` takes" in text_of(await harness.one("settings votes maybe"))
    assert "`learning` takes" in text_of(await harness.one("settings learning sometimes"))


async def test_learning_settings_are_for_managers(harness: Harness) -> None:
    refused = await harness.one("settings learning off", manager=False)
    assert isinstance(refused, TextReply) and refused.is_error
    channel = await harness.app.db.channels.get(HERE)
    assert channel is None or channel.settings.learning is None


async def test_platform_votes_do_not_mix(harness: Harness) -> None:
    discord = ChannelRef(Platform.DISCORD, HERE.workspace_id, HERE.channel_id)
    today = await harness.one("today 1")
    assert isinstance(today, PaperList)
    await harness.one(f"like {today.papers[0].paper.id}", discord)
    assert await harness.app.db.votes.count(HERE) == 0
    assert await harness.app.db.votes.count(discord) == 1


async def _disliked_under_agent(h: Harness) -> tuple[str, list[str]]:
    """Dislike every stored `agent` paper that has the topic's most common AI keyword: (keyword, ids)."""
    found = await h.one("search agent")
    assert isinstance(found, PaperList)
    everything = [p.paper for p in found.papers]
    everything += [p for p in (await h.app.db.papers.recent(2000)) if p.id not in {q.id for q in everything}]
    from bot.query import match, parse

    agent = parse("agent")
    under = [p for p in everything if match(agent, p) is not None]
    counts: dict[str, list[str]] = {}
    for paper in under:
        for keyword in {k.casefold() for k in paper.ai_keywords}:
            counts.setdefault(keyword, []).append(paper.id)
    keyword, ids = max(((k, v) for k, v in counts.items() if "agent" not in k), key=lambda kv: (len(kv[1]), kv[0]))
    assert len(ids) >= 4, "the sample has a shared keyword under agent"
    for paper_id in ids:
        await h.one(f"dislike {paper_id}")
    return keyword, ids


async def test_topics_suggest_a_refinement_that_a_manager_applies(harness: Harness) -> None:
    await harness.one("subscribe agent")
    _, disliked = await _disliked_under_agent(harness)
    topics = await harness.one("topics")
    assert isinstance(topics, TopicList)
    (topic,) = topics.topics
    assert topic.refinement is not None, "the votes point to an exclusion"
    papers = await harness.app.db.papers.get_many(disliked)
    phrase = topic.refinement.phrase.casefold()
    assert sum(phrase in {k.casefold() for k in p.ai_keywords} for p in papers.values()) >= 4
    assert topic.refinement.disliked_with >= 4 and "none it liked" in topic.refinement.reason
    assert topic.query == "agent", "suggested, not applied"
    (apply, _follow, _unsubscribe) = topic.actions
    assert apply.command == "refine" and apply.args[0] == str(topic.id)
    refused = await harness.one(f"refine {topic.id} {apply.args[1]}", manager=False)
    assert isinstance(refused, TextReply) and refused.is_error
    assert (await harness.app.db.subscriptions.get(HERE, topic.id)).query == "agent"  # type: ignore[union-attr]
    done = text_of(await harness.one(f"refine {topic.id} {apply.args[1]}"))
    assert done.startswith(f'Topic #{topic.id} is now `agent -"')
    stored = await harness.app.db.subscriptions.get(HERE, topic.id)
    assert stored is not None and stored.query == topic.refinement.query
    assert stored.created_at == (await harness.app.db.subscriptions.list(HERE))[0].created_at


async def test_refine_refuses_what_it_cannot_do(harness: Harness) -> None:
    await harness.one("subscribe agent")
    assert "no topic #99" in text_of(await harness.one("refine 99 web agent"))
    assert "topic id" in text_of(await harness.one("refine x web agent"))
    await harness.one('subscribe agent -"web agent"')
    topics = await harness.app.db.subscriptions.list(HERE)
    duplicate = text_of(await harness.one(f"refine {topics[0].id} web agent"))
    assert "already follows" in duplicate
    assert [s.query for s in await harness.app.db.subscriptions.list(HERE)] == ["agent", 'agent -"web agent"']


async def test_no_refinement_without_enough_dislikes_or_from_another_channel(harness: Harness) -> None:
    await harness.one("subscribe agent")
    await harness.one("subscribe agent", OTHER)
    # Another channel's dislikes suggest nothing here.
    found = await harness.one("search agent")
    assert isinstance(found, PaperList)
    for p in found.papers:
        await harness.one(f"dislike {p.paper.id}", OTHER)
    topics = await harness.one("topics")
    assert isinstance(topics, TopicList)
    assert all(t.refinement is None for t in topics.topics)
    assert [a.command for a in topics.topics[0].actions] == ["follow", "unsubscribe"]


async def test_a_database_cut_mid_vote_loses_nothing_and_doubles_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.votes
    from bot.errors import StoreUnavailable
    from bot.outage import UNAVAILABLE_REPLY

    today = await harness.one("today 1")
    assert isinstance(today, PaperList)
    paper = today.papers[0].paper.id
    await harness.one(f"like {paper}")

    def cut(*_: object) -> object:
        # The connection is lost between the vote's two statements, inside its transaction.
        raise StoreUnavailable("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:
        patch.setattr(storage.votes, "insert_for", cut)
        reply = await harness.one(f"dislike {paper}")
        assert isinstance(reply, TextReply) and reply.is_error and UNAVAILABLE_REPLY in reply.text
    assert [(v.paper_id, v.value) for v in await harness.app.db.votes.list(HERE)] == [(paper, 1)], "nothing lost"
    # Back: the same press works once, and pressing it twice at once still leaves one vote.
    import asyncio

    await asyncio.gather(harness.say(f"dislike {paper}", user="U2"), harness.say(f"dislike {paper}", user="U2"))
    votes = sorted((v.user_id, v.value) for v in await harness.app.db.votes.list(HERE))
    assert votes in ([("U1", 1), ("U2", -1)], [("U1", 1)]), votes


async def test_the_acknowledgement_names_the_channel_when_the_platform_does(harness: Harness) -> None:
    from dataclasses import replace as with_

    from bot.types import CommandInvocation, Permission, UserRef

    today = await harness.one("today 1")
    assert isinstance(today, PaperList)
    paper = today.papers[0].paper.id
    base = CommandInvocation(HERE, UserRef("U1"), "", Permission(False), harness.clock.now())
    pressed = with_(base, text=f"like {paper}", command="like", args=(paper,), channel_name="ml-papers")
    (reply,) = await harness.app.engine.handle(pressed)
    assert text_of(reply).startswith("Noted: #ml-papers will see more papers like")
    (again,) = await harness.app.engine.handle(pressed)
    assert "no longer counts in #ml-papers" in text_of(again)

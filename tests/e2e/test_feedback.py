"""Feedback end to end: 👍/👎 as typed commands, what they change in a channel's digest, `why`.

Votes belong to the channel they were cast in: another channel's, or another workspace's, never
touch this channel's order (the isolation tests below compare whole digests).
"""

from __future__ import annotations

from datetime import timedelta

from bot.learning import MIN_VOTES
from bot.types import ChannelRef, Digest, PaperList, Platform, TextReply
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
    assert [a.command for a in today.papers[0].actions] == ["like", "dislike", "similar"]
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

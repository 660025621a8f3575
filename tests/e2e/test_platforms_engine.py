"""The real engine behind the real Slack and Discord adapters, against the loopback fakes.

The contract tests prove each adapter against a small fake core; these prove the wiring: the
registry's commands reach Discord as a typed group, platform payloads reach the engine as text,
and the engine's real replies (real papers from the sample) come back rendered within limits.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from adapters.discord.adapter import DiscordAdapter
from adapters.slack.adapter import SlackAdapter
from bot.config import SlackSettings
from bot.sources.sample import SAMPLE_LAST_DAY
from bot.types import ChannelRef, PaperList, Platform
from tests.e2e.conftest import Harness
from tests.fakes import discord as fd
from tests.fakes.slack import (
    SECRET,
    FakeSlack,
    action_form,
    form,
    home_action_payload,
    home_opened_event,
    link_shared_event,
    overflow_payload,
    serve_app,
    signed_headers,
    slash_body,
    wait_for,
)

MANAGE_CHANNELS = 1 << 4  # Discord's Manage Channels permission bit


async def last_day_titles(h: Harness, n: int) -> list[str]:
    papers = await h.app.db.papers.featured_on(SAMPLE_LAST_DAY)
    return [p.title for p in papers if not p.withdrawn][:n]


@pytest.fixture
async def slack(harness: Harness) -> AsyncIterator[tuple[FakeSlack, str, aiohttp.ClientSession]]:
    fake = await FakeSlack().start()
    settings = SlackSettings(
        bot_token=SecretStr("xoxb-t1-token"), signing_secret=SecretStr(SECRET), api_url=fake.api_url
    )
    web_app = web.Application()
    adapter = SlackAdapter(settings, web_app=web_app, clock=harness.clock, min_post_interval=0.01)
    harness.app.adapters[Platform.SLACK] = adapter
    await adapter.start(harness.app.engine)
    runner, url = await serve_app(web_app)
    session = aiohttp.ClientSession()
    try:
        yield fake, url, session
    finally:
        await session.close()
        await runner.cleanup()
        await adapter.stop()
        await fake.stop()


async def signed_post(session: aiohttp.ClientSession, url: str, body: str, content_type: str) -> tuple[int, bytes]:
    """POST `body` to the Slack endpoint signed as Slack signs it; (status, the ack's body)."""
    headers = {"Content-Type": content_type, **signed_headers(SECRET, body)}
    async with session.post(url + "slack/events", data=body.encode(), headers=headers) as resp:
        return resp.status, await resp.read()


async def slash(session: aiohttp.ClientSession, url: str, fake: FakeSlack, text: str) -> int:
    body = form(slash_body(fake, text))
    status, ack = await signed_post(session, url, body, "application/x-www-form-urlencoded")
    fake.take_ack(body, ack)
    return status


async def test_slack_today_shows_real_papers(
    harness: Harness, slack: tuple[FakeSlack, str, aiohttp.ClientSession]
) -> None:
    fake, url, session = slack
    assert await slash(session, url, fake, "today 3") == 200
    await wait_for(lambda: len(fake.responses) == 1, what="the /papers today reply")
    _, payload = fake.responses[0]
    assert payload["response_type"] == "in_channel"
    shown = str(payload["blocks"])
    for title in await last_day_titles(harness, 3):
        assert title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")[:60] in shown


async def test_slack_subscribe_then_digest_now_posts_with_a_marker(
    harness: Harness, slack: tuple[FakeSlack, str, aiohttp.ClientSession]
) -> None:
    fake, url, session = slack
    assert await slash(session, url, fake, "subscribe agent -survey") == 200
    await wait_for(lambda: len(fake.responses) == 1, what="the subscribe reply")
    assert await slash(session, url, fake, "digest now") == 200
    await wait_for(lambda: len(fake.responses) == 2 and bool(fake.posts), within=10, what="the digest")
    first = fake.posts[0]
    assert first.channel == "C1" and first.thread_ts is None
    assert first.metadata is not None and first.metadata["event_type"] == "paperboy_delivery"
    ref = ChannelRef(Platform.SLACK, "T1", "C1")
    sent = await harness.app.db.deliveries.last_for_channel(ref)
    assert sent is not None and sent.message_id == first.ts
    assert first.metadata["event_payload"]["delivery_id"] == sent.id
    # A second `digest now` the same day posts nothing new.
    before = len(fake.posts)
    assert await slash(session, url, fake, "digest now") == 200
    await wait_for(lambda: len(fake.responses) == 3, what="the second digest reply")
    assert "already posted" in str(fake.responses[2][1])
    assert len(fake.posts) == before


async def test_slack_errors_are_private(harness: Harness, slack: tuple[FakeSlack, str, aiohttp.ClientSession]) -> None:
    fake, url, session = slack
    assert await slash(session, url, fake, 'search "unclosed') == 200
    await wait_for(lambda: len(fake.responses) == 1, what="the error reply")
    payload = fake.responses[0][1]
    assert payload["response_type"] == "ephemeral"
    assert "position" in str(payload)


@pytest.fixture
async def discord(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[fd.FakeDiscord]:
    monkeypatch.setattr("adapters.discord.adapter.GUILD_READY_TIMEOUT", 0.05)
    fake = fd.FakeDiscord()
    await fake.start()
    adapter = DiscordAdapter(fd.settings_for(fake), clock=harness.clock, kv=harness.app.db.kv)
    harness.app.adapters[Platform.DISCORD] = adapter
    await adapter.start(harness.app.engine, ready_timeout=10)
    try:
        yield fake
    finally:
        await adapter.stop()
        await fake.close()


def followups(fake: fd.FakeDiscord) -> list[fd.Posted]:
    return [p for p in fake.posted if p.via == "followup"]


async def test_discord_registers_every_registry_command(harness: Harness, discord: fd.FakeDiscord) -> None:
    _, payload = discord.command_puts[-1]
    (group,) = payload
    assert group["name"] == "papers"
    synced = {option["name"] for option in group["options"]}
    assert synced == {s.name for s in harness.app.engine.specs()}


async def test_discord_today_and_refused_subscribe(harness: Harness, discord: fd.FakeDiscord) -> None:
    await discord.push_interaction(fd.slash("today", {"n": 3}))
    await discord.wait_for(lambda: len(followups(discord)) >= 1, within=10)
    embeds = followups(discord)[0].embeds
    titles = [e["title"] for e in embeds]
    expected = await last_day_titles(harness, 3)
    assert len(titles) == 3
    for title, want in zip(titles, expected, strict=True):
        assert want[:40].split()[0] in title
    await discord.push_interaction(fd.slash("subscribe", {"query": "agent"}, permissions=0))
    await discord.wait_for(lambda: len(followups(discord)) >= 2, within=10)
    refusal = followups(discord)[-1]
    assert refusal.ephemeral and "Manage Channels" in refusal.content
    ref = ChannelRef(Platform.DISCORD, fd.GUILD_ID, "333")
    assert await harness.app.db.subscriptions.count(ref) == 0
    await discord.push_interaction(fd.slash("subscribe", {"query": "agent"}, permissions=MANAGE_CHANNELS))
    started = time.monotonic()
    await discord.wait_for(lambda: len(followups(discord)) >= 3, within=10)
    assert time.monotonic() - started < 10
    assert await harness.app.db.subscriptions.count(ref) == 1


async def post_event(session: aiohttp.ClientSession, url: str, event: dict[str, object]) -> int:
    return (await signed_post(session, url, json.dumps(event), "application/json"))[0]


async def test_slack_paper_links_unfurl_with_their_cards_and_join_the_channels_library(
    harness: Harness, slack: tuple[FakeSlack, str, aiohttp.ClientSession]
) -> None:
    fake, url, session = slack
    papers = [p for p in await harness.app.db.papers.featured_on(SAMPLE_LAST_DAY) if not p.withdrawn][:2]
    links = [
        f"https://arxiv.org/abs/{papers[0].id}v2",
        f"https://huggingface.co/papers/{papers[1].id}",
        "https://arxiv.org/list/cs.CL/recent",  # on arxiv.org, but no paper: Slack keeps its own preview
    ]
    event = link_shared_event(links, user="U_ADA")
    assert await post_event(session, url, event) == 200
    await wait_for(lambda: len(fake.unfurls) == 1, what="chat.unfurl")
    call = fake.unfurls[0]
    assert call["token"] == "xoxb-t1-token"
    assert call["unfurl_id"] == event["event"]["unfurl_id"] and call["source"] == "conversations_history"  # type: ignore[index]
    assert sorted(call["unfurls"]) == sorted(links[:2])
    assert papers[0].id in json.dumps(call["unfurls"][links[0]]["blocks"])
    entries = await harness.app.db.library.entries(ChannelRef(Platform.SLACK, "T1", "C1"))
    assert sorted((e.paper_id, e.added_by, e.via.value) for e in entries) == sorted(
        (p.id, "U_ADA", "shared") for p in papers
    )
    # Slack retries an event it thinks was not taken: the retry changes nothing.
    assert await post_event(session, url, event) == 200
    assert len(await harness.app.db.library.entries(ChannelRef(Platform.SLACK, "T1", "C1"))) == 2
    # A link in a message still being written is shown, but not yet in the library.
    draft = link_shared_event([f"https://alphaxiv.org/abs/{papers[0].id}"], channel="C2", source="composer")
    assert await post_event(session, url, draft) == 200
    await wait_for(lambda: len(fake.unfurls) == 2, what="the composer's chat.unfurl")
    assert await harness.app.db.library.entries(ChannelRef(Platform.SLACK, "T1", "C2")) == []
    assert await harness.app.db.library.entries(ChannelRef(Platform.SLACK, "T1", "COMPOSER")) == []


async def _follow_weeks_ago(h: Harness, act: Callable[[], Awaitable[None]]) -> None:
    """Run `act` (a `follow`) three weeks before the sample's days, so the sample's papers are new to it."""
    h.clock.advance(timedelta(days=-21))
    try:
        await act()
    finally:
        h.clock.advance(timedelta(days=21))


async def test_slack_follow_reaches_the_person_by_im_and_their_home_tab_lists_it(
    harness: Harness, slack: tuple[FakeSlack, str, aiohttp.ClientSession]
) -> None:
    fake, url, session = slack
    fake.add_user("U1")

    async def follow() -> None:
        assert await slash(session, url, fake, "follow agent") == 200
        await wait_for(lambda: len(fake.responses) == 1, what="the follow reply")

    await _follow_weeks_ago(harness, follow)
    reply = fake.responses[0][1]
    assert reply["response_type"] == "ephemeral" and "You follow `agent`" in json.dumps(reply)
    me = ChannelRef.dm(Platform.SLACK, "T1", "U1")
    assert (await harness.app.runner.run(me)).papers > 0
    im = fake.im_of("U1")
    assert im is not None and fake.posts and {p.channel for p in fake.posts} == {im}
    assert fake.posts[0].metadata is not None and fake.posts[0].metadata["event_type"] == "paperboy_delivery"
    assert "Your follows" in json.dumps(fake.posts[0].blocks)

    assert await post_event(session, url, home_opened_event()) == 200
    await wait_for(lambda: bool(fake.home_views), what="the Home tab")
    user, view = fake.home_views[-1]
    shown = json.dumps(view)
    assert user == "U1" and "agent" in shown and "Your latest matches" in shown
    (follow_id,) = [s.id for s in await harness.app.db.subscriptions.list(me)]
    assert f"pb:follow:stop%20{follow_id}" in shown, "an Unfollow button for the follow"


async def test_discord_closed_dms_pause_follows_and_the_next_command_says_so(
    harness: Harness, discord: fd.FakeDiscord
) -> None:
    async def follow() -> None:
        await discord.push_interaction(fd.slash("follow", {"what": "agent"}))
        await discord.wait_for(lambda: len(followups(discord)) >= 1, within=10)

    await _follow_weeks_ago(harness, follow)
    first = followups(discord)[0]
    assert first.ephemeral and "You follow" in first.content and "agent" in first.content
    me = ChannelRef.dm(Platform.DISCORD, fd.GUILD_ID, "444")
    discord.knobs.closed_dms.add("444")
    run = await harness.app.runner.run(me)
    assert run.outcome.value == "paused" and "Allow direct messages" in run.detail
    await discord.push_interaction(fd.slash("today", {"n": 1}))
    await discord.wait_for(lambda: len(followups(discord)) >= 3, within=10)
    notice = followups(discord)[-1]
    assert notice.ephemeral and "Your follows are paused" in notice.content and "follow on" in notice.content
    discord.knobs.closed_dms.discard("444")
    await discord.push_interaction(fd.slash("follow", {"what": "on"}))
    await discord.wait_for(lambda: len(followups(discord)) >= 4, within=10)
    await harness.app.recovery.run()
    dm = discord.dms["444"]
    assert [p.channel_id for p in discord.posted if p.via != "followup"] == [dm] * len(
        [p for p in discord.posted if p.via != "followup"]
    )
    assert any(p.channel_id == dm for p in discord.posted)


def _accessories(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b["accessory"] for b in blocks if isinstance(b.get("accessory"), dict)]


async def _press(session: aiohttp.ClientSession, url: str, payload: dict[str, Any]) -> int:
    return (await signed_post(session, url, action_form(payload), "application/x-www-form-urlencoded"))[0]


async def test_slack_follow_buttons_and_the_home_tab_unfollow_through_bolt(
    harness: Harness, slack: tuple[FakeSlack, str, aiohttp.ClientSession]
) -> None:
    fake, url, session = slack
    fake.add_user("U1")
    me = ChannelRef.dm(Platform.SLACK, "T1", "U1")
    assert await slash(session, url, fake, "today 1") == 200
    await wait_for(lambda: len(fake.responses) == 1, what="the today reply")
    (menu,) = [a for a in _accessories(fake.responses[0][1]["blocks"]) if a["type"] == "overflow"]
    dm_me = next(o["value"] for o in menu["options"] if o["text"]["text"] == "DM me papers like this")
    assert await _press(session, url, overflow_payload(fake, menu, dm_me)) == 200
    await wait_for(lambda: len(fake.responses) == 2, what="the follow-like reply")
    assert "papers like" in json.dumps(fake.responses[1][1])
    (liked,) = await harness.app.db.subscriptions.list(me)

    assert await slash(session, url, fake, "subscribe agent") == 200
    assert await slash(session, url, fake, "topics") == 200
    await wait_for(lambda: len(fake.responses) == 4, what="the topics reply")
    (topic_menu,) = _accessories(fake.responses[3][1]["blocks"])
    follow_topic = next(o["value"] for o in topic_menu["options"] if o["text"]["text"] == "Follow this topic")
    assert await _press(session, url, overflow_payload(fake, topic_menu, follow_topic)) == 200
    await wait_for(lambda: len(fake.responses) == 5, what="the follow-topic reply")
    follows = await harness.app.db.subscriptions.list(me)
    assert [s.query for s in follows] == [liked.query, "agent"]
    assert await harness.app.db.subscriptions.count(ChannelRef(Platform.SLACK, "T1", "C1")) == 1

    assert await post_event(session, url, home_opened_event()) == 200
    await wait_for(lambda: bool(fake.home_views), what="the Home tab")
    _, view = fake.home_views[-1]
    stop = next(
        e
        for block in view["blocks"]
        for e in [block.get("accessory") or {}]
        if e.get("text", {}).get("text", "") == f"Unfollow #{follows[1].id}"
    )
    published = len(fake.home_views)
    assert await _press(session, url, home_action_payload(view, stop)) == 200
    await wait_for(lambda: len(fake.home_views) > published, what="the Home tab again")
    assert [s.query for s in await harness.app.db.subscriptions.list(me)] == [liked.query]
    assert f"Unfollow #{follows[1].id}" not in json.dumps(fake.home_views[-1][1])


async def test_discord_follow_buttons_through_discord_py(harness: Harness, discord: fd.FakeDiscord) -> None:
    today = await harness.one("today 1", ChannelRef(Platform.DISCORD, fd.GUILD_ID, "333"))
    assert isinstance(today, PaperList)
    paper = today.papers[0].paper
    await discord.push_interaction(fd.button(f"pb:follow:like%20{paper.id}"))
    await discord.wait_for(lambda: len(followups(discord)) >= 1, within=10)
    me = ChannelRef.dm(Platform.DISCORD, fd.GUILD_ID, "444")
    (liked,) = await harness.app.db.subscriptions.list(me)
    assert all(
        part.strip('"').casefold() in [k.casefold() for k in paper.ai_keywords] for part in liked.query.split(" OR ")
    )
    assert followups(discord)[0].ephemeral

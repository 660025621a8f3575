"""A person's follows as Slack and Discord show them (`TopicList(personal=True)`), and Slack's Home tab."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.discord import render as discord
from adapters.slack import render as slack
from adapters.slack import translate
from adapters.text import render_text
from bot import actions as codec
from bot.types import (
    Action,
    ActionStyle,
    ChannelRef,
    CommandSpec,
    Digest,
    DigestEntry,
    DigestReason,
    ListedPaper,
    Paper,
    PaperList,
    Permission,
    Platform,
    TextReply,
    TopicList,
    TopicSummary,
)
from tests.fakes.discord import limit_problems
from tests.fakes.slack import _block_problems, make_paper
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"
SLACK_DM = ChannelRef.dm(Platform.SLACK, "T1", "U1")
DISCORD_DM = ChannelRef.dm(Platform.DISCORD, "222", "555")
EMPTY = "You follow nothing yet. `/papers follow <query>` adds one; its matches reach you by direct message."


def unfollow(topic_id: int) -> Action:
    return Action("unfollow", (str(topic_id),), "Unfollow", ActionStyle.DANGER)


def follows(channel: ChannelRef) -> TopicList:
    topics = (
        TopicSummary(3, "mixture of experts", 5, created_by="U1", actions=(unfollow(3),)),
        TopicSummary(9, 'author:"Yann LeCun"', 1, created_by="U1", actions=(unfollow(9),)),
    )
    return TopicList(channel, topics, limit=10, private=True, personal=True)


def test_slack_names_a_persons_follows_as_theirs() -> None:
    (post,) = slack.render(follows(SLACK_DM))
    assert post.blocks[0]["text"]["text"] == "Your follows (2/10)"
    text = json.dumps(post.blocks)
    assert "Topics in this channel" not in text and "added by" not in text, "a person's follows are all theirs"
    buttons = [b["accessory"] for b in post.blocks if "accessory" in b]
    assert [b["action_id"] for b in buttons] == [codec.encode(unfollow(3)), codec.encode(unfollow(9))]
    assert post.text.startswith("Your follows: #3 mixture of experts")
    assert_golden(GOLDEN / "slack" / "follows.json", [{"text": post.text, "blocks": post.blocks}])


def test_slack_empty_follows_say_how_to_follow() -> None:
    (post,) = slack.render(TopicList(SLACK_DM, (), limit=10, personal=True))
    assert post.blocks[0]["text"]["text"] == "Your follows (0/10)"
    assert post.blocks[-1]["text"]["text"] == slack.escape(EMPTY)
    assert "&lt;query&gt;" in post.blocks[-1]["text"]["text"], "no raw angle brackets in mrkdwn"
    assert post.text == "You follow nothing yet."


def test_slack_channel_topics_are_unchanged() -> None:
    (post,) = slack.render(TopicList(ChannelRef(Platform.SLACK, "T1", "C1"), ()))
    assert post.blocks[0]["text"]["text"] == "Topics in this channel (0/25)"
    assert "follow" not in json.dumps(post.blocks)


def test_discord_names_a_persons_follows_as_theirs() -> None:
    posts = discord.render(follows(DISCORD_DM))
    first = posts[0].payload()
    assert first["content"].startswith("**Your follows** · 2 of 10")
    assert "added by" not in json.dumps(first)
    ids = [b["custom_id"] for p in posts for row in p.payload().get("components", []) for b in row["components"]]
    assert ids == [codec.encode(unfollow(3)), codec.encode(unfollow(9))]
    assert not any(limit_problems(p.payload()) for p in posts)
    payload = [{**p.payload(), "ephemeral": p.ephemeral, "thread": p.thread} for p in posts]
    assert_golden(GOLDEN / "discord" / "follows.json", payload)


def test_discord_empty_follows_say_how_to_follow() -> None:
    (post,) = discord.render(TopicList(DISCORD_DM, (), limit=10, personal=True))
    assert post.content == f"**Your follows** · 0 of 10\n{EMPTY}"


def test_discord_channel_topics_are_unchanged() -> None:
    (post,) = discord.render(TopicList(ChannelRef.parse("discord:222:333"), ()))
    assert post.content.startswith("**Topics of this channel** · 0 of 25\nNo topics yet.")


# ---- the Slack Home tab -------------------------------------------------------------------------


def _specs(n: int) -> list[CommandSpec]:
    return [CommandSpec(name=f"cmd{i}", summary="Does a thing. " * 30, description="") for i in range(n)]


def test_the_home_tab_stays_within_slacks_limits_however_much_a_person_follows() -> None:
    topics = tuple(TopicSummary(i, "x" * 500, i, actions=(unfollow(i),)) for i in range(1, 26))
    papers = tuple(ListedPaper(replace(make_paper(i), title="T" * 900)) for i in range(40))
    messages = [
        PaperList("Your latest matches", papers, more=12),
        TopicList(SLACK_DM, topics, limit=25, personal=True),
        TextReply("y" * 5000),
        *(PaperList(f"More matches {i}", papers) for i in range(3)),  # more than any `following` says
    ]
    view = slack.render_home(_specs(60), "/papers", messages, notice=["z" * 5000] * 5)
    blocks = view["blocks"]
    assert len(blocks) == 100
    assert not [p for p in _block_problems(blocks) if "no more than 50" not in p], "a view holds 100, not 50"
    texts = [json.dumps(b) for b in blocks]
    first_topic = next(i for i, t in enumerate(texts) if "Your follows (25/25)" in t)
    assert first_topic < next(i for i, t in enumerate(texts) if "y" * 100 in t), "the follows come first"
    assert sum("pb:unfollow" in t for t in texts) == 25, "every follow keeps its Unfollow button"
    assert any("following` in the *Messages* tab" in t for t in texts), "what was cut says where to see it"
    assert sum("`cmd" in t for t in texts) == slack.HOME_COMMANDS


def test_the_home_tab_without_follows_keeps_the_how_to_and_commands() -> None:
    view = slack.render_home(_specs(3), "/papers", [TopicList(SLACK_DM, (), limit=10, personal=True)])
    text = json.dumps(view)
    assert "You follow nothing yet" in text and "`cmd2" in text and "/papers follow &lt;query&gt;" in text
    assert slack.render_home(_specs(3))["blocks"][-1]["text"]["text"].startswith("`cmd2")


HOME_PRESS = {
    # Slack's block_actions payload for a button on the App Home tab (docs.slack.dev, block_actions payload).
    "type": "block_actions",
    "user": {"id": "U1", "username": "ada", "name": "ada", "team_id": "T1"},
    "api_app_id": "A1",
    "token": "verification_token",
    "container": {"type": "view", "view_id": "V0PKB1ZFV"},
    "trigger_id": "24571818370.22717085937.b9c7ca14b0eb1ff0d8e9f9c0d3d8e5a7",
    "team": {"id": "T1", "domain": "example"},
    "enterprise": None,
    "is_enterprise_install": False,
    "view": {"id": "V0PKB1ZFV", "team_id": "T1", "type": "home", "blocks": [], "private_metadata": ""},
    "actions": [
        {
            "action_id": "pb:unfollow:3",
            "block_id": "x1",
            "text": {"type": "plain_text", "text": "Unfollow #3"},
            "value": "pb:unfollow:3",
            "style": "danger",
            "type": "button",
            "action_ts": "1548426417.840180",
        }
    ],
}
AT = datetime(2026, 12, 2, 9, tzinfo=UTC)


def test_a_home_tab_press_is_the_persons_direct_message_command() -> None:
    invocation = translate.block_action(HOME_PRESS, permission=Permission(False), received_at=AT)
    assert invocation.channel == SLACK_DM and invocation.is_direct_message
    assert (invocation.command, invocation.args, invocation.user.user_id) == ("unfollow", ("3",), "U1")


def test_a_press_with_neither_channel_nor_home_view_is_refused() -> None:
    body = {k: v for k, v in HOME_PRESS.items() if k not in ("view", "container")}
    with pytest.raises(translate.UnsupportedPayload):
        translate.block_action(body, permission=Permission(False), received_at=AT)
    modal = {**HOME_PRESS, "view": {**HOME_PRESS["view"], "type": "modal"}}  # type: ignore[dict-item]
    with pytest.raises(translate.UnsupportedPayload):
        translate.block_action(modal, permission=Permission(False), received_at=AT)


def test_a_home_press_needs_a_valid_user() -> None:
    body = {**HOME_PRESS, "user": {"id": "U1>!", "team_id": "T1"}}
    with pytest.raises(translate.UnsupportedPayload):
        translate.block_action(body, permission=Permission(False), received_at=AT)


def test_a_persons_dm_reads_as_their_follows_on_every_surface() -> None:
    paper = Paper("2511.00001", "A paper", "An abstract.")
    entries = (DigestEntry(paper, DigestReason.TOPIC, ("moe",)),)
    day = date(2025, 11, 27)
    for platform in (Platform.SLACK, Platform.DISCORD, Platform.CONSOLE):
        dm = Digest(ChannelRef.dm(platform, "W1", "U1"), day, entries)
        channel = Digest(ChannelRef(platform, "W1", "C1"), day, entries)
        if platform is Platform.SLACK:
            shown, other = (json.dumps(slack.render(m)[0].blocks) for m in (dm, channel))
        elif platform is Platform.DISCORD:
            shown, other = (discord.render(m)[0].content for m in (dm, channel))
        else:
            shown, other = (render_text(m) for m in (dm, channel))
        assert "Your follows" in shown and "1 new paper" in shown and "trending" not in shown, (platform, shown)
        assert "Your follows" not in other

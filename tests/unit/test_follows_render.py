"""A person's follows (`TopicList(personal=True)`) as Slack and Discord show them: heading, empty text, goldens."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.discord import render as discord
from adapters.slack import render as slack
from bot import actions as codec
from bot.types import Action, ActionStyle, ChannelRef, Platform, TopicList, TopicSummary
from tests.fakes.discord import limit_problems
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

"""Forum posts from digests (pure): names, tags within Discord's limits, markers; status notes rendered."""

from __future__ import annotations

from datetime import date, time

from adapters import text as text_render
from adapters.discord import forum
from adapters.discord import render as discord_render
from adapters.slack import render as slack_render
from bot.actions import paper_actions
from bot.types import ChannelRef, Digest, DigestEntry, DigestReason, Status, TopicWeek, WeeklyRollup
from tests.fakes.discord import limit_problems, paper

CHANNEL = ChannelRef.parse("discord:1:2")
DELIVERY = "abcdefabcdefabcdefabcdefabcdefab"


def test_a_digest_is_one_post_per_paper_with_its_marker_and_no_summary() -> None:
    entries = (
        DigestEntry(paper(1, title="<@123> @everyone " + "x" * 200), DigestReason.TRENDING),
        DigestEntry(paper(2), DigestReason.TOPIC, ("agents", "a topic far too long to be a tag")),
    )
    posts, inside = forum.forum_posts(Digest(CHANNEL, date(2026, 3, 2), entries), marker=DELIVERY)
    assert inside == []
    assert len(posts) == 2
    assert len(posts[0].name) <= forum.POST_NAME_LIMIT and posts[0].name.startswith("<@123>")
    assert posts[0].tags == ("trending",) and posts[1].tags == ("agents",)
    for position, post in enumerate(posts):
        body = post.first.payload()
        assert not limit_problems(body)
        assert discord_render.marker_positions(body, DELIVERY) == {position}
    # The card escapes mentions even though the post name (plain text on Discord) is the raw title.
    assert "<@123>" not in posts[0].first.embeds[0]["title"]


def test_the_cards_buttons_come_along() -> None:
    entry = DigestEntry(paper(3), DigestReason.TOPIC, ("rl",), actions=paper_actions(paper(3)))
    (post,), _ = forum.forum_posts(Digest(CHANNEL, date(2026, 3, 2), (entry,)), marker=DELIVERY)
    labels = [b["label"] for row in post.first.components for b in row["components"]]
    assert labels == [a.label for a in entry.actions]


def test_anything_else_is_one_post_with_its_other_parts_inside() -> None:
    topics = tuple(TopicWeek(f"topic {i}", 3, (paper(i),)) for i in range(1, 101))
    rollup = WeeklyRollup(CHANNEL, "2026-W10", date(2026, 3, 2), date(2026, 3, 8), topics, delivery_id=DELIVERY)
    (post,), inside = forum.forum_posts(rollup, marker=DELIVERY)
    assert post.name.startswith("Your week in papers") and post.tags == ()
    assert inside and all(discord_render.marker_positions(p.payload(), DELIVERY) for p in inside)
    (empty,), nothing = forum.forum_posts(Digest(CHANNEL, date(2026, 3, 2), (), note="No new papers."), marker=None)
    assert empty.name == "Paperboy digest · Mon 02 Mar 2026" and nothing == []


def test_tags_are_matched_by_name_and_capped_at_five() -> None:
    available = {"Trending": 1, "agents": 2, "a": 3, "b": 4, "c": 5, "d": 6}
    assert forum.applied_tags(["trending", "AGENTS", "a", "b", "c", "d"], available) == [1, 2, 3, 4, 5]
    assert forum.tags_to_create(["trending", "rlhf", "RLHF", "moe"], available) == ["rlhf", "moe"]


def test_status_notes_show_on_every_surface() -> None:
    status = Status(
        CHANNEL, True, time(9), "UTC", None, None, None, None, (), 1, None, 0, notes=("Crossposts held back: 2",)
    )
    (post,) = discord_render.render(status)
    assert "Crossposts held back: 2" in [f["value"] for f in post.embeds[0]["fields"]]
    assert "Crossposts held back: 2" in str(slack_render.render(status))
    assert "Note: Crossposts held back: 2" in text_render.render_status(status)

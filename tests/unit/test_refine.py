"""Refinements the votes suggest (bot.refine): when, which phrase, and the query that applies it."""

from __future__ import annotations

from bot.query import match, parse
from bot.refine import refined_query, suggest
from bot.types import Paper


def paper(n: int, keywords: tuple[str, ...], title: str = "An agent") -> Paper:
    return Paper(id=f"2501.{n:05d}", title=title, abstract="agents acting", ai_keywords=keywords)


WEB = [paper(i, ("Web Agent", "HTML")) for i in range(1, 5)]
OTHER = paper(5, ("robotics",))


def test_four_of_five_dislikes_about_one_phrase_suggest_excluding_it() -> None:
    found = suggest(parse("agent"), liked=[paper(9, ("planning",))], disliked=[*WEB, OTHER])
    assert found is not None
    assert (found.phrase, found.query, found.disliked_with, found.disliked) in {
        ("Web Agent", 'agent -"Web Agent"', 4, 5),
        ("HTML", 'agent -"HTML"', 4, 5),
    }
    assert found.reason.startswith("4 of the 5 papers this channel disliked under it are about")
    refined = parse(found.query)
    assert all(match(refined, p) is None for p in WEB) and match(refined, OTHER) is not None


def test_nothing_is_suggested_that_a_liked_paper_has_or_with_too_few_dislikes() -> None:
    liked = [paper(9, ("web agent", "html"))]
    assert suggest(parse("agent"), liked=liked, disliked=[*WEB, OTHER]) is None
    assert suggest(parse("agent"), liked=[], disliked=WEB[:3]) is None
    assert suggest(parse("robotics"), liked=[], disliked=WEB) is None, "dislikes outside the topic do not count"


def test_an_or_query_is_grouped_before_the_exclusion() -> None:
    assert refined_query("moe OR sparse", "web agent") == '(moe OR sparse) -"web agent"'
    assert refined_query("agent", 'say "hi"') == 'agent -"say hi"'
    parse(refined_query("moe OR sparse", "web agent"))


def test_every_surface_shows_the_suggestion_and_its_button() -> None:
    from adapters.discord import render as discord_render
    from adapters.slack import render as slack_render
    from adapters.text import render_text
    from bot import actions as codec
    from bot.actions import topic_actions
    from bot.types import ChannelRef, Platform, Refinement, TopicList, TopicSummary

    refinement = Refinement("web agent", 'agent -"web agent"', 4, 5)
    topic = TopicSummary(3, "agent", 12, actions=topic_actions(3, "web agent"), refinement=refinement)
    message = TopicList(ChannelRef(Platform.SLACK, "T1", "C1"), (topic,))
    assert [(a.command, a.args) for a in topic.actions] == [
        ("refine", ("3", "web agent")),
        ("follow", ("topic 3",)),
        ("unsubscribe", ("3",)),
    ]
    (slack,) = slack_render.render(message)
    section = next(b for b in slack.blocks if "accessory" in b)
    assert 'agent -"web agent"' in section["text"]["text"] and "4 of the 5" in section["text"]["text"]
    pressed = codec.decode(section["accessory"]["options"][0]["value"])
    assert pressed is not None and (pressed.command, pressed.args) == ("refine", ("3", "web agent"))
    (discord,) = discord_render.render(message)
    ids = [b["custom_id"] for row in discord.components for b in row["components"]]
    assert ids == ["pb:refine:3:web%20agent", "pb:follow:topic%203", "pb:unsubscribe:3"]
    assert "4 of the 5" in discord.embeds[0]["fields"][0]["value"]
    assert "refine 3 web agent" in render_text(message)

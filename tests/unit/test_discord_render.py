"""Discord rendering on real papers from the shared Daily Papers archive: limits, escaping, golden payloads."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any

from adapters.discord.render import DiscordPost, render, safe, short_authors
from bot import actions as codec
from bot.actions import paper_actions, topic_actions
from bot.types import (
    Action,
    ChannelRef,
    Delivery,
    DeliveryKind,
    DeliveryState,
    Digest,
    DigestEntry,
    DigestReason,
    ListedPaper,
    Message,
    Paper,
    PaperCard,
    PaperList,
    Platform,
    SourceHealth,
    Status,
    TextReply,
    TopicList,
    TopicSummary,
)
from tests.fakes.discord import limit_problems
from tests.golden import assert_golden
from tests.shared_data import archive_papers

GOLDEN = Path(__file__).parent / "golden" / "discord"
CHANNEL = ChannelRef.parse("discord:222:333")
HOSTILE = "@everyone @here <@123456789012345678> <@!123456789012345678> <@&987654321098765432> <#555555555555555555>"


@cache
def month(name: str) -> tuple[Paper, ...]:
    """One archive month, parsed by the bot's own file source (one paper per id)."""
    return tuple(archive_papers(f"daily_papers_{name}.json"))


def by_id(month_name: str, paper_id: str) -> Paper:
    return next(p for p in month(month_name) if p.id == paper_id)


def card(paper: Paper) -> PaperCard:
    return PaperCard(paper, actions=paper_actions(paper))


def digest_of(papers: tuple[Paper, ...], delivery_id: str | None = "5f0c2d1e-aaaa-bbbb-cccc-000000000001") -> Digest:
    entries = tuple(
        DigestEntry(
            p,
            DigestReason.TOPIC if i % 3 == 0 else DigestReason.TRENDING,
            ("mixture of experts",) if i % 3 == 0 else (),
            paper_actions(p),
        )
        for i, p in enumerate(papers)
    )
    return Digest(CHANNEL, date(2024, 10, 30), entries, papers_day=date(2024, 10, 29), delivery_id=delivery_id)


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return []


def assert_within_limits(posts: list[DiscordPost]) -> None:
    assert posts
    for post in posts:
        body = post.payload()
        assert limit_problems(body) == []
        for row in post.components:
            assert row["type"] == 1
            for b in row["components"]:
                assert b["custom_id"].startswith("pb:") and len(b["custom_id"]) <= 100


_PING = re.compile(r"@(everyone|here)|<@[!&]?\d|<#\d", re.IGNORECASE)


def assert_cannot_ping(posts: list[DiscordPost]) -> None:
    for post in posts:
        for text in strings(post.payload()):
            assert not _PING.search(text), text


# ------------------------------------------------------------------------------------ real papers


def test_longest_title_in_the_archive_fits() -> None:
    paper = by_id("2025-04", "2504.13099")
    posts = render(card(paper))
    assert_within_limits(posts)
    assert posts[0].embeds[0]["url"] == "https://huggingface.co/papers/2504.13099"


def test_paper_with_3303_authors_is_shortened() -> None:
    paper = by_id("2025-07", "2507.06261")
    assert len(paper.authors) == 3303
    posts = render(PaperList("Top", (ListedPaper(paper),)))
    assert_within_limits(posts)
    authors = next(f for f in posts[0].embeds[0]["fields"] if f["name"] == "Authors")
    assert authors["value"].endswith(" et al.")
    assert authors["value"].count(",") == 2


def test_25_paper_digest_splits_into_posts_within_limits() -> None:
    papers = tuple(sorted(month("2024-10"), key=lambda p: -p.upvotes)[:25])
    posts = render(digest_of(papers))
    assert_within_limits(posts)
    assert_cannot_ping(posts)
    assert sum(len(p.embeds) for p in posts) == 25
    assert len(posts) >= 3
    first, *rest = posts
    assert "Wed 30 Oct 2024" in first.content and "25 papers" in first.content
    assert "16 trending" in first.content and "9 from your topics" in first.content
    assert not first.thread and all(p.thread for p in rest)
    assert first.embeds[-1]["footer"]["text"].endswith("ref 5f0c2d1e-aaa")
    buttons = [b["custom_id"] for p in posts for row in p.components for b in row["components"]]
    each = ("like", "dislike", "similar", "save")
    assert buttons == [b for p in papers for b in [*(f"pb:{n}:{p.id}" for n in each), f"pb:follow:like%20{p.id}"]]
    assert [codec.decode(b) for b in buttons] == [
        a for p in papers for a in [*(Action(n, (p.id,)) for n in each), Action("follow", (f"like {p.id}",))]
    ]
    matched = [f["value"] for f in first.embeds[0]["fields"] if f["name"] == "Matched"]
    assert matched == ["mixture of experts"]


def test_every_paper_of_a_month_renders_within_limits() -> None:
    papers = month("2024-10")
    for start in range(0, len(papers), 25):
        assert_within_limits(render(digest_of(papers[start : start + 25])))
    for paper in papers[:200]:
        assert_within_limits(render(card(paper)))


def test_description_is_a_short_excerpt_of_the_ai_summary() -> None:
    paper = month("2024-10")[0]
    embed = render(card(paper))[0].embeds[0]
    assert embed["description"].startswith(safe(paper.ai_summary or "")[:40])
    list_embed = render(PaperList("x", (ListedPaper(paper),)))[0].embeds[0]
    assert len(list_embed["description"]) <= 350


# ------------------------------------------------------------------------------------ hostile text


def test_hostile_titles_cannot_ping() -> None:
    evil = Paper(
        id="2401.00001",
        title=f"{HOSTILE} **bold** __u__ `code`",
        abstract=HOSTILE * 40,
        authors=("@everyone", "<@123456789012345678>", "x", "y"),
        ai_keywords=("@here",),
        github_repo="javascript:alert(1)",
        project_page="https://example.org/a b",
        thumbnail="http://insecure.example/x.png",
    )
    messages: list[Message] = [
        PaperCard(evil),
        PaperList(HOSTILE, (ListedPaper(evil, matched=(HOSTILE,)),), note=HOSTILE, more=3),
        digest_of((evil,) * 12),
        TextReply(HOSTILE, is_error=True),
        TopicList(CHANNEL, (TopicSummary(1, HOSTILE, 0, created_by=HOSTILE),)),
    ]
    for message in messages:
        posts = render(message)
        assert_within_limits(posts)
        assert_cannot_ping(posts)
    embed = render(card(evil))[0].embeds[0]
    links = next(f["value"] for f in embed["fields"] if f["name"] == "Links")
    assert "javascript" not in links and "example.org" not in links
    assert "thumbnail" not in embed
    assert "\\*\\*bold\\*\\*" in embed["title"]


# ------------------------------------------------------------------------------------ other types


def test_paper_list_heading_note_and_more() -> None:
    papers = tuple(ListedPaper(p) for p in month("2024-10")[:3])
    posts = render(PaperList("Top papers this week", papers, note="Weekend: showing Friday.", more=12))
    assert posts[0].content == "**Top papers this week**\nWeekend: showing Friday."
    assert posts[0].embeds[-1]["footer"]["text"].startswith("…and 12 more")
    empty = render(PaperList("Search: zzz", (), more=0, private=True))
    assert empty[0].ephemeral and "No papers" in empty[0].content


def test_shared_embeds_are_never_changed_by_a_render() -> None:
    """Paper embeds are memoised and shared: a list's footer or a marker must not leak into a digest."""
    papers = tuple(sorted(month("2024-10"), key=lambda p: -p.upvotes)[:4])
    digest = digest_of(papers)
    before = json.dumps([p.payload() for p in render(digest)], ensure_ascii=False)
    # The same papers at the same numbers with the same matched lines: the same memoised embeds.
    listed = tuple(ListedPaper(e.paper, ("trending today",) if not e.matched else e.matched) for e in digest.entries)
    footers = render(PaperList("Top", listed, more=12), marker="another-delivery")
    assert "…and 12 more" in json.dumps([p.payload() for p in footers], ensure_ascii=False)
    render(card(papers[0]))
    after = json.dumps([p.payload() for p in render(digest)], ensure_ascii=False)
    assert after == before
    assert "12 more" not in after and "another-deli" not in after


def test_the_same_digest_in_two_channels_carries_each_marker() -> None:
    """Digests are memoised without channel and delivery id; each post must still carry its own marker."""
    papers = tuple(sorted(month("2024-10"), key=lambda p: -p.upvotes)[:12])
    first = digest_of(papers, delivery_id="aaaaaaaaaaaa-first")
    second = replace(first, channel=ChannelRef(Platform.DISCORD, "1", "2"), delivery_id="bbbbbbbbbbbb-second")
    a = json.dumps([p.payload() for p in render(first)])
    b = json.dumps([p.payload() for p in render(second)])
    assert "ref aaaaaaaaaaaa" in a and "bbbbbbbbbbbb" not in a
    assert "ref bbbbbbbbbbbb" in b and "aaaaaaaaaaaa" not in b
    assert json.dumps([p.payload() for p in render(first)]) == a


def test_topic_list_has_an_unsubscribe_button_per_topic() -> None:
    topics = tuple(TopicSummary(i, ("x" * 280) + f" {i}", i, actions=topic_actions(i)) for i in range(1, 26))
    posts = render(TopicList(CHANNEL, topics))
    assert_within_limits(posts)
    ids = [b["custom_id"] for p in posts for row in p.components for b in row["components"]]
    assert [codec.decode(i) for i in ids] == [
        a for i in range(1, 26) for a in (Action("follow", (f"topic {i}",)), Action("unsubscribe", (str(i),)))
    ]
    assert "25 of 25" in posts[0].content


def test_errors_are_marked_and_long_text_is_split() -> None:
    (error,) = render(TextReply("Unknown subcommand 'tody'. Did you mean 'today'?", private=True, is_error=True))
    assert error.content.startswith("⚠️ ") and error.ephemeral
    long = render(TextReply("\n".join(f"line {i} " + "w" * 90 for i in range(100))))
    assert len(long) > 1 and all(len(p.content) <= 2000 for p in long)


def test_status_shows_schedule_and_problems() -> None:
    when = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    delivery = Delivery("d", CHANNEL, DeliveryKind.DIGEST, "2026-03-01", DeliveryState.FAILED, when, error="x" * 5000)
    status = Status(
        CHANNEL,
        True,
        time(9),
        "Europe/Paris",
        when,
        when,
        delivery,
        "Discord says Paperboy lacks permission",
        (SourceHealth("hf", when, when, "timeout " * 500),),
        1234,
        date(2026, 3, 1),
        3,
        private=True,
    )
    (post,) = render(status)
    assert_within_limits([post])
    names = [f["name"] for f in post.embeds[0]["fields"]]
    assert names[:5] == ["Digest", "Topics", "Papers stored", "Next digest", "Last digest"]
    assert "⚠️ Paused" in names
    assert post.ephemeral
    assert "<t:" in post.embeds[0]["fields"][3]["value"]


def test_short_authors() -> None:
    assert short_authors(["A", "B", "C"]) == "A, B, C"
    assert short_authors(["A", "B", "C", "D"]) == "A, B, C et al."
    assert short_authors([]) == "unknown"


def test_marker_goes_to_content_when_there_are_no_embeds() -> None:
    (post,) = render(TextReply("hello"), marker="abcdef0123456789")
    assert post.content.endswith("-# ref abcdef012345")


# ------------------------------------------------------------------------------------ golden payloads


def _golden(name: str, posts: list[DiscordPost]) -> None:
    payload = [{**p.payload(), "ephemeral": p.ephemeral, "thread": p.thread} for p in posts]
    assert_golden(GOLDEN / f"{name}.json", payload)


def test_golden_digest() -> None:
    papers = tuple(sorted(month("2024-10"), key=lambda p: -p.upvotes)[:3])
    _golden("digest_3_papers", render(digest_of(papers)))


def test_golden_paper_card_longest_title() -> None:
    _golden("paper_card_2504.13099", render(card(by_id("2025-04", "2504.13099"))))


def test_golden_topics() -> None:
    topics = (
        TopicSummary(3, "mixture of experts", 5, created_by="alice", actions=topic_actions(3)),
        TopicSummary(9, 'author:"Yann LeCun"', 0, actions=topic_actions(9)),
    )
    _golden("topic_list", render(TopicList(CHANNEL, topics)))


def test_an_estimated_total_says_about() -> None:
    papers = tuple(ListedPaper(p) for p in month("2024-10")[:3])
    posts = render(PaperList("Papers matching `llm`", papers, more=524_466, more_estimated=True))
    assert posts[0].embeds[-1]["footer"]["text"].startswith("…and about 520,000 more")
    exact = render(PaperList("Papers matching `llm`", papers, more=524_466))
    assert exact[0].embeds[-1]["footer"]["text"].startswith("…and 524466 more")

"""Block Kit rendering on real Daily Papers data: limits, fallbacks, escaping, goldens."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from adapters.slack import translate
from adapters.slack.render import (
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    SlackPost,
    escape,
    render,
)
from bot import actions as codec
from bot.actions import paper_actions, reading_actions, topic_actions
from bot.types import (
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
    Permission,
    Platform,
    SourceHealth,
    Status,
    TextReply,
    TopicList,
    TopicSummary,
)
from tests.golden import assert_golden
from tests.shared_data import all_archive_papers

GOLDEN = Path(__file__).parent / "golden" / "slack"
CHANNEL = ChannelRef(Platform.SLACK, "T1", "C1")


def all_papers() -> tuple[Paper, ...]:
    return all_archive_papers()


def by_id(paper_id: str) -> Paper:
    return next(p for p in all_papers() if p.id == paper_id)


def card(paper: Paper) -> PaperCard:
    return PaperCard(paper, actions=paper_actions(paper))


def pressed(element: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The command a rendered button stands for, as the translator reads it back."""
    action = codec.decode(element["action_id"], element.get("value", ""))
    assert action is not None, element
    return action.command, action.args


def menu(element: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """The commands of an overflow menu's options, as the translator reads them back."""
    assert element["type"] == "overflow", element
    found = [codec.decode(option["value"]) for option in element["options"]]
    assert all(a is not None for a in found), element
    return [(a.command, a.args) for a in found if a is not None]


def paper_menu(paper_id: str) -> list[tuple[str, tuple[str, ...]]]:
    """What every paper offers: 👍, 👎, More like this, Save and DM me papers like this."""
    return [
        ("like", (paper_id,)),
        ("dislike", (paper_id,)),
        ("similar", (paper_id,)),
        ("save", (paper_id,)),
        ("follow", (f"like {paper_id}",)),
    ]


HOSTILE = (
    "<!channel> <!here> <@U123> <#C1|general> @here @channel @everyone & <https://evil.example|click> "
    "*bold* `code` <!subteam^S1>"
)


def hostile_paper() -> Paper:
    base = all_papers()[0]
    return Paper(
        id="2401.00001",
        title=HOSTILE,
        abstract="Abstract " + HOSTILE,
        authors=("<@U999>", "Mallory <!everyone>"),
        ai_summary=None,
        github_repo="javascript:alert(1)",
        project_page="https://ok.example/page?a=1&b=<2>",
        upvotes=base.upvotes,
    )


# ---- helpers that check every block -------------------------------------------------------------


def _texts(obj: Any) -> list[tuple[str, str]]:
    """(type, text) of every text object in a payload."""
    out: list[tuple[str, str]] = []
    if isinstance(obj, dict):
        if obj.get("type") in ("mrkdwn", "plain_text") and "text" in obj:
            out.append((obj["type"], obj["text"]))
        for v in obj.values():
            out.extend(_texts(v))
    elif isinstance(obj, list):
        for v in obj:
            out.extend(_texts(v))
    return out


def assert_within_limits(posts: list[SlackPost]) -> None:
    assert posts, "a message renders to at least one post"
    assert not posts[0].thread
    for post in posts:
        assert post.text.strip(), "every post has a text fallback"
        assert len(post.text) <= 3000
        assert len(post.blocks) <= MAX_BLOCKS
        json.dumps(post.blocks)  # serialisable
        for block in post.blocks:
            kind = block["type"]
            if kind == "section":
                assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
            if kind == "header":
                assert len(block["text"]["text"]) <= MAX_HEADER_TEXT
                assert block["text"]["type"] == "plain_text"
            for el in [block.get("accessory") or {}, *(block.get("elements") or [])]:
                if el.get("type") == "button":
                    assert len(el["text"]["text"]) <= MAX_BUTTON_TEXT
                    assert el["value"] and len(el["action_id"]) <= 255


_MENTION = re.compile(r"<[!@#]|@(here|channel|everyone)\b", re.IGNORECASE)


def assert_no_mentions(posts: list[SlackPost]) -> None:
    for post in posts:
        for kind, text in [("mrkdwn", post.text), *_texts(post.blocks)]:
            assert not _MENTION.search(text), f"mention syntax survived in {kind}: {text[:200]!r}"
            if kind == "mrkdwn":
                # Every remaining <...> is one of our own http(s) links.
                for m in re.finditer(r"<([^>]*)>", text):
                    assert re.match(r"https?://[^\s|<>]+\|", m.group(1)), m.group(0)


# ---- tests ---------------------------------------------------------------------------------------


def test_escape_neutralises_mentions_and_entities() -> None:
    assert escape("a & b <!channel> <@U1>") == "a &amp; b &lt;!channel&gt; &lt;@U1&gt;"
    assert "@here" not in escape("ping @here now")


def test_every_paper_in_the_archive_renders_as_a_card_within_limits() -> None:
    papers = all_papers()
    assert len(papers) > 5000
    for paper in papers:
        posts = render(card(paper))
        assert len(posts) == 1
        assert_within_limits(posts)
        section = posts[0].blocks[1]
        assert menu(section["accessory"]) == paper_menu(paper.id)


def test_paper_blocks_are_exactly_what_slack_sdk_builds() -> None:
    """Paper blocks are plain dicts for speed; slack_sdk's SectionBlock (with its validation) must agree."""
    from adapters.slack.render import _paper_block, _section, accessory, paper_text

    for i, paper in enumerate(all_papers()):
        matched = ("mixture of experts", HOSTILE) if i % 3 else ()
        rank = i % 25 if i % 2 else None
        actions = paper_actions(paper) if i % 7 else ()
        built = _paper_block(paper, matched=matched, rank=rank, marker="🔥 " if i % 5 == 0 else "", actions=actions)
        text = ("🔥 " if i % 5 == 0 else "") + paper_text(paper, matched=matched, rank=rank)
        assert built == _section(text, accessory(actions))


def test_shared_blocks_are_never_changed_by_a_render() -> None:
    """Blocks are memoised and shared between posts: rendering anything must leave them as built."""
    digest = make_digest(25)
    before = json.dumps([p.blocks for p in render(digest)], ensure_ascii=False)
    for message in (
        PaperList("Everything", tuple(ListedPaper(p, matched=("x",)) for p in all_papers()[:60]), more=5),
        PaperCard(digest.entries[0].paper),
        make_digest(7, delivery_id="other"),
    ):
        for post in render(message):
            json.dumps(post.blocks)
    assert json.dumps([p.blocks for p in render(digest)], ensure_ascii=False) == before


def test_the_same_digest_in_two_channels_carries_each_delivery_id() -> None:
    """Digests are memoised without channel and delivery id; the metadata must still be each one's own."""
    first = make_digest(12, delivery_id="d-first")
    second = replace(first, channel=ChannelRef(Platform.SLACK, "T2", "C9"), delivery_id="d-second")
    a, b = render(first), render(second)
    assert a[0].metadata == {"event_type": "paperboy_delivery", "event_payload": {"delivery_id": "d-first", "part": 0}}
    assert b[0].metadata == {"event_type": "paperboy_delivery", "event_payload": {"delivery_id": "d-second", "part": 0}}
    assert [p.blocks for p in a] == [p.blocks for p in b]
    assert render(first)[0].metadata == a[0].metadata
    assert render(replace(first, delivery_id=None))[0].metadata is None


def test_longest_title_and_most_authors() -> None:
    longest = max(all_papers(), key=lambda p: len(p.title))
    most = max(all_papers(), key=lambda p: len(p.authors))
    assert len(most.authors) == 3303
    for paper in (longest, most):
        posts = render(PaperCard(paper))
        assert_within_limits(posts)
    text = render(PaperCard(most))[0].blocks[1]["text"]["text"]
    first3 = ", ".join(most.authors[:3])
    assert f"{escape(first3)} et al." in text
    assert most.authors[3] not in text
    header = render(PaperCard(longest))[0].blocks[0]["text"]["text"]
    assert len(header) <= MAX_HEADER_TEXT


def test_card_has_links_counts_and_summary() -> None:
    paper = next(p for p in all_papers() if p.github_repo and p.project_page and p.ai_summary)
    text = render(PaperCard(paper))[0].blocks[1]["text"]["text"]
    assert f"<{paper.hf_url}|" in text
    assert f"<https://arxiv.org/abs/{paper.id}|arXiv>" in text
    assert f"<https://arxiv.org/pdf/{paper.id}|PDF>" in text
    assert "|Code>" in text and "|Project page>" in text
    assert f"▲ {paper.upvotes} · 💬 {paper.comments}" in text


def test_abstract_excerpt_when_no_ai_summary() -> None:
    paper = next(p for p in all_papers() if not p.ai_summary and len(p.abstract) > 1000)
    text = render(PaperCard(paper))[0].blocks[1]["text"]["text"]
    quote = next(line for line in text.splitlines() if line.startswith("> "))
    assert 100 < len(quote) <= 320 and quote.endswith("…")


def test_hostile_paper_text_cannot_mention_or_link() -> None:
    paper = hostile_paper()
    messages: list[Message] = [
        PaperCard(paper),
        PaperList("Search: " + HOSTILE, (ListedPaper(paper, matched=(HOSTILE,)),), note=HOSTILE, more=3),
        Digest(CHANNEL, date(2026, 11, 27), (DigestEntry(paper, DigestReason.TOPIC, (HOSTILE,)),), note=HOSTILE),
        TopicList(CHANNEL, (TopicSummary(1, HOSTILE, 2, created_by="<@U1>"),)),
        TextReply(HOSTILE, private=True, is_error=True),
    ]
    for message in messages:
        posts = render(message)
        assert_within_limits(posts)
        assert_no_mentions(posts)
    text = render(PaperCard(paper))[0].blocks[1]["text"]["text"]
    assert "javascript:" not in text, "only http(s) links are rendered"
    assert "&lt;!channel&gt;" in text


def make_digest(n: int, *, delivery_id: str | None = "d-1") -> Digest:
    papers = sorted(all_papers(), key=lambda p: -p.upvotes)[:n]
    entries = tuple(
        DigestEntry(
            p,
            DigestReason.TRENDING if i < 3 else DigestReason.TOPIC,
            () if i < 3 else ("mixture of experts",),
            paper_actions(p),
        )
        for i, p in enumerate(papers)
    )
    return Digest(CHANNEL, date(2026, 11, 27), entries, papers_day=date(2026, 11, 26), delivery_id=delivery_id)


def test_digest_heading_and_matched_line() -> None:
    posts = render(make_digest(7))
    header = posts[0].blocks[0]["text"]["text"]
    assert header == "Papers for Fri 27 Nov · 3 trending, 4 for your topics"
    all_text = json.dumps([p.blocks for p in posts], ensure_ascii=False)
    assert "matched: mixture of experts" in all_text
    assert posts[0].metadata == {"event_type": "paperboy_delivery", "event_payload": {"delivery_id": "d-1", "part": 0}}


def test_long_digest_overflows_into_thread_within_limits() -> None:
    digest = make_digest(25)
    posts = render(digest)
    assert_within_limits(posts)
    assert len(posts) >= 2
    assert [p.thread for p in posts] == [False] + [True] * (len(posts) - 1)
    buttons = [menu(b["accessory"]) for p in posts for b in p.blocks if b["type"] == "section" and "accessory" in b]
    assert buttons == [paper_menu(e.paper.id) for e in digest.entries], "every paper once, in order"
    assert "thread" in json.dumps(posts[0].blocks)


def test_huge_lists_split_at_fifty_blocks() -> None:
    papers = tuple(ListedPaper(p) for p in all_papers()[:120])
    posts = render(PaperList("Everything", papers, more=5))
    assert_within_limits(posts)
    assert sum(len(p.blocks) for p in posts) >= 120
    assert "5 more papers" in json.dumps(posts[-1].blocks)


def test_topic_list_has_unsubscribe_buttons() -> None:
    topics = (
        TopicSummary(7, "mixture of experts", 12, actions=topic_actions(7)),
        TopicSummary(9, "diffusion", 1, actions=topic_actions(9)),
    )
    posts = render(TopicList(CHANNEL, topics))
    assert_within_limits(posts)
    menus = [b["accessory"] for b in posts[0].blocks if "accessory" in b]
    assert [menu(m) for m in menus] == [[("follow", (f"topic {n}",)), ("unsubscribe", (str(n),))] for n in (7, 9)]
    labels = [[o["text"]["text"] for o in m["options"]] for m in menus]
    assert labels == [["Follow this topic", f"Unsubscribe #{n}"] for n in (7, 9)]
    assert "12 matches in the last 7 days" in json.dumps(posts[0].blocks)


def test_text_reply_error_is_plain_text_with_warning() -> None:
    (post,) = render(TextReply("unknown subcommand 'todya'; did you mean 'today'?", private=True, is_error=True))
    assert post.text.startswith("⚠️ ") and post.blocks == []


def sample_status() -> Status:
    delivery = Delivery(
        "d-9",
        CHANNEL,
        DeliveryKind.DIGEST,
        "2026-11-27",
        DeliveryState.FAILED,
        datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        error="Slack says the channel was archived (is_archived)",
    )
    return Status(
        CHANNEL,
        True,
        time(9, 0),
        "Europe/Paris",
        datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
        delivery,
        "Slack says the channel was archived (is_archived)",
        (SourceHealth("hf", datetime(2026, 11, 27, 7, 0, tzinfo=UTC), None, None),),
        7585,
        date(2026, 11, 26),
        3,
    )


def test_status_renders_delivery_and_sources() -> None:
    posts = render(sample_status())
    assert_within_limits(posts)
    text = json.dumps(posts[0].blocks, ensure_ascii=False)
    assert "Europe/Paris" in text and "is_archived" in text and "hf" in text


# ---- goldens -------------------------------------------------------------------------------------


def _golden_messages() -> dict[str, Message]:
    return {
        "digest_7": make_digest(7),
        "card_2507.06261": card(by_id("2507.06261")),
        "topics": TopicList(CHANNEL, (TopicSummary(7, "mixture of experts", 12, actions=topic_actions(7)),)),
        "status": sample_status(),
    }


@pytest.mark.parametrize("name", ["digest_7", "card_2507.06261", "topics", "status"])
def test_golden(name: str) -> None:
    posts = render(_golden_messages()[name])
    actual = [{"text": p.text, "blocks": p.blocks, "thread": p.thread, "metadata": p.metadata} for p in posts]
    assert_golden(GOLDEN / f"{name}.json", actual)


def test_a_library_paper_offers_all_seven_actions_in_a_select_menu() -> None:
    """Votes, More like this and Save (issue 12 and 14) plus read and present exceed an overflow menu's 5."""
    paper = all_papers()[0]
    (post,) = render(PaperCard(paper, actions=reading_actions(paper)))
    (element,) = [b["accessory"] for b in post.blocks if "accessory" in b]
    assert element["type"] == "static_select" and len(element["options"]) == 7
    commands = [codec.decode(o["value"]) for o in element["options"]]
    names = ["like", "dislike", "similar", "save", "follow", "read", "present"]
    assert [a.command for a in commands if a is not None] == names
    body = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1", "username": "ada"},
        "channel": {"id": "C1", "name": "papers"},
        "actions": [{**element, "selected_option": element["options"][6]}],
    }
    invocation = translate.block_action(
        body, permission=Permission(True, "everyone"), received_at=datetime(2026, 12, 2, tzinfo=UTC)
    )
    assert (invocation.command, invocation.args) == ("present", (paper.id,))


def test_an_estimated_total_says_about() -> None:
    papers = tuple(ListedPaper(p) for p in all_papers()[:3])
    text = json.dumps(render(PaperList("Papers matching `llm`", papers, more=38_777, more_estimated=True))[-1].blocks)
    assert "about 39,000 more papers matched" in text

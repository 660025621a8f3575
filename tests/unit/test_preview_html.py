"""The preview page: every paper of a digest on it, as Slack and as Discord, and nothing in paper text active."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest

from adapters.discord.render import DiscordPost
from adapters.discord.render import render as render_discord
from adapters.slack.render import SlackPost
from adapters.slack.render import render as render_slack
from bot.sources.files import iter_daily_papers_files
from bot.sources.sample import SAMPLE_LAST_DAY, sample_paths
from bot.types import ChannelRef, Digest, DigestEntry, DigestReason, Paper, Platform
from paperboy.preview.html import discord_html, markdown_html, mrkdwn_html, page_html, slack_html

CHANNEL = ChannelRef(Platform.SLACK, "T1", "C1")


def sample_papers() -> list[Paper]:
    seen: dict[str, Paper] = {}
    for paper in iter_daily_papers_files(sample_paths()):
        seen.setdefault(paper.id, paper)
    return sorted(seen.values(), key=lambda p: (-p.upvotes, p.id))


def real_digest(n_trending: int = 10, n_topic: int = 5) -> Digest:
    papers = sample_papers()
    trending = papers[:n_trending]
    others = [p for p in papers if p not in trending][:n_topic]
    entries = [DigestEntry(p, DigestReason.TRENDING) for p in trending]
    entries += [DigestEntry(p, DigestReason.TOPIC, ("mixture of experts",)) for p in others]
    return Digest(CHANNEL, SAMPLE_LAST_DAY, tuple(entries), SAMPLE_LAST_DAY)


def page_of(digest: Digest) -> str:
    return page_html(digest, render_slack(digest), render_discord(digest), title="Preview")


class Dom(HTMLParser):
    """Tags, attributes and the text of each column (`section id=slack|discord`)."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: dict[str, str] = {"": ""}
        self._column = ""
        self._depth = 0
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag == "section":
            self._column = dict(attrs).get("id") or ""
            self.text.setdefault(self._column, "")
        if self._column and tag not in ("br", "hr", "meta"):
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._column:
            self._depth -= 1
            if self._depth == 0:
                self._column = ""

    def handle_data(self, data: str) -> None:
        self.text[self._column] += data

    def hrefs(self) -> list[str]:
        return [v or "" for _, attrs in self.tags for k, v in attrs if k in ("href", "src", "action", "formaction")]


def norm(text: str) -> str:
    return " ".join(text.replace("\u200b", "").split())


def test_every_paper_of_a_real_digest_is_in_both_columns_escaped() -> None:
    digest = real_digest()
    page = page_of(digest)
    dom = Dom(page)
    assert len(digest.entries) == 15
    for entry in digest.entries:
        title = " ".join(entry.paper.title.split())
        assert html.escape(title) in page.split('id="discord"')[0], entry.paper.id
        assert html.escape(title) in page.split('id="discord"')[1], entry.paper.id
        for column in ("slack", "discord"):
            assert norm(title) in norm(dom.text[column]), (column, entry.paper.id)
            assert f"https://huggingface.co/papers/{entry.paper.id}" in page
    assert "15 papers (10 trending, 5 from topics)" in page
    assert "matched: mixture of experts" in norm(dom.text["slack"])


def test_page_is_self_contained() -> None:
    page = page_of(real_digest())
    dom = Dom(page)
    assert not [t for t, _ in dom.tags if t in ("script", "img", "link", "iframe", "object", "embed")]
    assert "default-src 'none'" in page
    assert all(h.startswith(("http://", "https://")) for h in dom.hrefs())


HOSTILE_TITLES = [
    "<script>alert(1)</script> Attention Is All You Need",
    '"><img src=x onerror=alert(1)> Sparse Experts',
    "*bold* _it_ `code` [x](javascript:alert(1)) <https://evil.example|click> &amp; @everyone",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_paper_text_is_shown_not_run(title: str) -> None:
    papers = sample_papers()
    hostile = replace(
        papers[0],
        title=title,
        abstract='</blockquote><svg onload=alert(2)> "quoted" & <b>not bold</b>',
        ai_summary=None,
        authors=("<iframe src=javascript:alert(3)>", "Ann O'Neil"),
        github_repo="javascript:alert(4)",
        project_page='https://ok.example/"onmouseover="alert(5)',
        thumbnail="data:image/svg+xml,<svg onload=alert(6)>",
    )
    digest = Digest(CHANNEL, SAMPLE_LAST_DAY, (DigestEntry(hostile, DigestReason.TOPIC, ("<script>x",)),))
    page = page_of(digest)
    dom = Dom(page)
    assert "<script" not in page.lower()
    assert not [t for t, _ in dom.tags if t in ("script", "img", "svg", "iframe")]
    assert not [(t, k) for t, attrs in dom.tags for k, _ in attrs if k.startswith("on")]
    assert all(h.startswith(("http://", "https://")) for h in dom.hrefs())
    assert "javascript:" not in " ".join(dom.hrefs())
    # The text is there for the admin to read, as characters.
    visible_title = norm(title).split(" [x]")[0].replace("*bold* _it_ `code`", "bold it code")
    for column in ("slack", "discord"):
        text = norm(dom.text[column])
        assert "alert(1)" in text or "javascript" in title, column
        assert norm("<svg onload=alert(2)>") in text, column
        assert "<b>not bold</b>" in text, column
        assert visible_title.split(" ")[0].strip("*") in text, column


def test_mrkdwn_entities_show_as_characters_and_never_as_markup() -> None:
    out = mrkdwn_html("&lt;b&gt;x&lt;/b&gt; &amp;lt; *bold* _it_ <https://a.example/?q=1&amp;r=2|A &amp; B>")
    assert "&lt;b&gt;x&lt;/b&gt;" in out
    assert "&amp;lt;" in out  # Slack's `&amp;lt;` reads `&lt;` on screen
    assert "<b>bold</b>" in out and "<i>it</i>" in out
    assert '<a href="https://a.example/?q=1&amp;r=2"' in out and ">A &amp; B</a>" in out


@pytest.mark.parametrize(
    "mrkdwn",
    ["<javascript:alert(1)|click>", "<data:text/html,x|click>", "<//evil.example|click>", "<https://a b|click>"],
)
def test_slack_links_are_http_only(mrkdwn: str) -> None:
    out = mrkdwn_html(mrkdwn)
    assert "href" not in out and "click" in out


@pytest.mark.parametrize(
    "md", ["[click](javascript:alert(1))", "[click](data:text/html,x)", "[click](ftp://x.example/)"]
)
def test_discord_links_are_http_only(md: str) -> None:
    out = markdown_html(md)
    assert "href" not in out and "click" in out


def test_discord_markdown_escapes_are_literal() -> None:
    assert markdown_html(r"\*not italic\* **bold** [a \] b](https://x.example/p)") == (
        '*not italic* <b>bold</b> <a href="https://x.example/p" rel="noopener noreferrer nofollow" '
        'target="_blank">a ] b</a>'
    )


def test_slack_blocks_of_every_kind_render() -> None:
    post = SlackPost(
        text="fallback",
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": "<Head>"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*Body*"},
                "fields": [{"type": "mrkdwn", "text": "_f1_"}, {"type": "plain_text", "text": "f2"}],
                "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "a"},
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "ctx"}]},
            {"type": "divider"},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": "https://x.example"},
                    {"type": "button", "text": {"type": "plain_text", "text": "Stop"}, "style": "danger"},
                ],
            },
        ],
    )
    out = slack_html([post])
    for piece in ("&lt;Head&gt;", "<b>Body</b>", "<i>f1</i>", "f2", "Go", "ctx", "sl-divider", "Open", "Stop"):
        assert piece in out
    assert 'href="https://x.example"' in out and "sl-btn-danger" in out


def test_discord_embed_parts_render() -> None:
    embed: dict[str, Any] = {
        "title": "T",
        "url": "https://huggingface.co/papers/1",
        "description": "**d**",
        "color": 0xFFD21E,
        "fields": [{"name": "Authors", "value": "A", "inline": True}],
        "footer": {"text": "ref abc"},
        "thumbnail": {"url": "https://cdn.example/t.png"},
    }
    post = DiscordPost(content="hi", embeds=[embed], components=[{"type": 1, "components": [{"label": "More"}]}])
    out = discord_html([post])
    assert "#ffd21e" in out and "<b>d</b>" in out and "Authors" in out and "ref abc" in out and "More" in out
    assert "cdn.example" not in out  # the thumbnail is not loaded: no network


def test_long_digest_with_thread_replies_shows_every_paper() -> None:
    digest = real_digest(n_trending=10, n_topic=15)
    assert len(digest.entries) == 25
    slack_posts, discord_posts = render_slack(digest), render_discord(digest)
    assert any(p.thread for p in slack_posts) and any(p.thread for p in discord_posts)
    page = page_html(digest, slack_posts, discord_posts, title="Preview")
    slack_part, discord_part = page.split('id="discord"')
    n_replies = sum(p.thread for p in slack_posts)
    assert f"{n_replies} repl" in slack_part and "dc-thread" in discord_part
    for entry in digest.entries:
        url = f"https://huggingface.co/papers/{entry.paper.id}"
        assert url in slack_part and url in discord_part, entry.paper.id
    assert "25 papers" in page


def test_empty_digest_says_so() -> None:
    digest = Digest(CHANNEL, date(2025, 11, 22), (), None, note="No Daily Papers are stored yet.")
    page = page_of(digest)
    assert "0 papers" in page and "No Daily Papers are stored yet." in page

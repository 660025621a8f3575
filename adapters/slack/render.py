"""Semantic messages -> Slack Block Kit posts. Pure: no I/O, no clock, no client.

Every post carries a plain-text fallback (`text`), stays inside Slack's documented limits (50 blocks a
message, 3,000 characters a section, 150 a header, 75 a button label) and escapes paper text for mrkdwn
so that no title or abstract can mention, ping or link anyone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, assert_never
from urllib.parse import urlsplit

from slack_sdk.models.blocks import (
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from adapters import paper_view
from bot import actions as codec
from bot.types import (
    Action,
    ActionStyle,
    CommandSpec,
    Digest,
    DigestEntry,
    DigestReason,
    ExportFile,
    FollowUp,
    ListedPaper,
    Message,
    Paper,
    PaperCard,
    PaperList,
    Status,
    TextReply,
    TopicList,
    WeeklyRollup,
)

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_CONTEXT_TEXT = 2000
MAX_FALLBACK_TEXT = 3000
MAX_ACTION_VALUE = 2000

# A digest's channel message carries the summary and the top papers; the rest goes to its thread.
DIGEST_TOP_PAPERS = 5
PAPERS_PER_THREAD_REPLY = 10
SUMMARY_CHARS = 300

MAX_OVERFLOW_OPTIONS = 5
MAX_SELECT_OPTIONS = 100


@dataclass(frozen=True, slots=True)
class SlackPost:
    """One `chat.postMessage` worth of content.

    `thread` means "post as a reply in the thread of the first post of the same render".
    """

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread: bool = False
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    """Post in the thread of this message (a follow-up under the message that carried its paper)."""


# ---------------------------------------------------------------------------------------------
# Escaping and small text helpers

_BROADCAST = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)


def escape(text: str) -> str:
    """Escape untrusted text for mrkdwn and the fallback `text`.

    `&`, `<`, `>` become entities, so `<!channel>`, `<@U123>`, `<#C1>` and `<url|label>` are inert.
    A word joiner after `@` in `@here`/`@channel`/`@everyone` keeps them from being linked as
    broadcasts should a client or `link_names` ever parse them.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060\\1", escaped)


_MENTION_OPEN = re.compile(r"<(?=[!@#])")


def plain(text: str) -> str:
    """Untrusted text for plain_text objects (headers, buttons).

    Slack does not parse plain_text for mentions, but a header showing `<!channel>` verbatim still reads
    like one and would survive a switch to mrkdwn: the `<` of mention syntax becomes `‹`.
    """
    return _BROADCAST.sub("@\u2060\\1", _MENTION_OPEN.sub("‹", text))


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Never leave half an entity (`&am`) at the cut.
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:] and len(cut) - amp < 6:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def excerpt(text: str, limit: int = SUMMARY_CHARS) -> str:
    """A sentence-friendly excerpt of about `limit` characters (raw text, escape afterwards)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) URL that cannot break out of `<url|label>`, else None."""
    if not url:
        return None
    url = url.strip()
    if any(c in url for c in "<>|\"' \t\r\n") or len(url) > 1000:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.replace("&", "&amp;")


def link(url: str | None, label: str) -> str | None:
    """`<url|label>` with an escaped label, or None when the URL is not a safe http(s) URL."""
    checked = safe_url(url)
    if checked is None:
        return None
    return f"<{checked}|{escape(label)}>"


def authors_line(authors: Sequence[str], limit: int = 3) -> str:
    return paper_view.short_authors(authors, limit)


def day_label(day: Any) -> str:
    """`Fri 28 Nov` for a date (no locale dependence)."""
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{days[day.weekday()]} {day.day} {months[day.month - 1]}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# ---------------------------------------------------------------------------------------------
# Block builders (all through slack_sdk's models, then to_dict()). Headers, contexts and paper blocks
# repeat across a fan-out and slack_sdk's validation is most of a render's cost, so they are memoised:
# the blocks are shared between posts, and nothing here or downstream changes a block once built.
# Cache sizes hold one fan-out's working set (bench/fanout: ~3,600 paper blocks and ~1,800 distinct
# digests for 5,000 channels) and bound what a long-running bot keeps (a few MB per cache).


@functools.lru_cache(maxsize=4096)
def _header(text: str) -> dict[str, Any]:
    return HeaderBlock(text=PlainTextObject(text=truncate(plain(text), MAX_HEADER_TEXT), emoji=True)).to_dict()


def _section(
    mrkdwn: str, element: ButtonElement | OverflowMenuElement | StaticSelectElement | None = None
) -> dict[str, Any]:
    block = SectionBlock(text=MarkdownTextObject(text=truncate(mrkdwn, MAX_SECTION_TEXT)), accessory=element)
    return block.to_dict()


@functools.lru_cache(maxsize=4096)
def _context(mrkdwn: str) -> dict[str, Any]:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(mrkdwn, MAX_CONTEXT_TEXT))]).to_dict()


def _divider() -> dict[str, Any]:
    return DividerBlock().to_dict()


_STYLES = {ActionStyle.DEFAULT: None, ActionStyle.PRIMARY: "primary", ActionStyle.DANGER: "danger"}


def _button(action: Action) -> ButtonElement:
    # The encoded action is the action_id (unique within a message: it names the paper or topic too) and
    # the value; the translator reads the action back from either (bot.actions.decode).
    encoded = codec.encode(action)
    return ButtonElement(
        text=PlainTextObject(text=truncate(action.label, MAX_BUTTON_TEXT), emoji=True),
        action_id=encoded,
        value=encoded,
        style=_STYLES[action.style],
    )


def _overflow(actions: Sequence[Action]) -> OverflowMenuElement:
    options = [Option(value=codec.encode(a), label=truncate(a.label, MAX_BUTTON_TEXT)) for a in actions]
    return OverflowMenuElement(action_id=codec.MENU_PREFIX + codec.encode(actions[0]), options=options)


def _select(actions: Sequence[Action]) -> StaticSelectElement:
    # More actions than an overflow menu holds (a library paper: the votes, More like this, Save, read,
    # present): a select menu of them all, which the translator reads back like an overflow option.
    options = [
        Option(value=codec.encode(a), label=truncate(a.label, MAX_BUTTON_TEXT)) for a in actions[:MAX_SELECT_OPTIONS]
    ]
    return StaticSelectElement(
        action_id=codec.MENU_PREFIX + codec.encode(actions[0]),
        placeholder=PlainTextObject(text="Actions…", emoji=True),
        options=options,
    )


def accessory(actions: Sequence[Action]) -> ButtonElement | OverflowMenuElement | StaticSelectElement | None:
    """One action as a button, up to five as an overflow menu, more as a select menu; actions whose id would
    not fit are left out."""
    usable = [a for a in actions if codec.fits(a)]
    if not usable:
        return None
    if len(usable) == 1:
        return _button(usable[0])
    return _overflow(usable) if len(usable) <= MAX_OVERFLOW_OPTIONS else _select(usable)


def _fallback(text: str) -> str:
    return truncate(text, MAX_FALLBACK_TEXT) or " "


# ---------------------------------------------------------------------------------------------
# Papers


def paper_links(paper: Paper) -> list[str]:
    links = [link(url, label) for label, url in paper_view.paper_links(paper)]
    return [x for x in links if x]


def paper_text(
    paper: Paper,
    *,
    matched: Iterable[str] = (),
    rank: int | None = None,
    summary_chars: int = SUMMARY_CHARS,
    note: str = "",
) -> str:
    """The mrkdwn body of one paper: linked title, authors, counts, a note, matched line, summary, links."""
    title, details, tail = _paper_lines(paper, summary_chars)
    prefix = f"{rank}. " if rank is not None else ""
    text = f"{prefix}{title}\n{details}"
    if note:
        text += f"\n_{escape(note)}_"
    reasons = [r for r in matched if r.strip()]
    if reasons:
        text += "\n_matched: " + escape(truncate(", ".join(reasons), 300)) + "_"
    return f"{text}\n{tail}" if tail else text


@functools.lru_cache(maxsize=2048)
def _paper_lines(paper: Paper, summary_chars: int) -> tuple[str, str, str]:
    """(title line, authors and counts, summary and links): what does not depend on the channel, built
    once per paper however many digests show it."""
    hf = link(paper.hf_url, truncate(" ".join(paper.title.split()), 400))
    title = f"*{hf}*" if hf else f"*{escape(truncate(' '.join(paper.title.split()), 400))}*"
    details: list[str] = []
    authors = authors_line(paper.authors)
    if authors:
        details.append(escape(truncate(authors, 300)))
    stats = f"▲ {paper.upvotes} · 💬 {paper.comments}"
    if paper.github_stars:
        stats += f" · ★ {paper.github_stars}"
    details.append(stats)
    tail: list[str] = []
    summary = paper_view.summary(paper)
    if summary:
        tail.append("> " + escape(excerpt(summary, summary_chars)))
    links = paper_links(paper)
    if links:
        tail.append(" · ".join(links))
    return title, "\n".join(details), "\n".join(tail)


def _paper_block(
    paper: Paper,
    *,
    matched: Iterable[str] = (),
    rank: int | None = None,
    marker: str = "",
    actions: tuple[Action, ...] = (),
    note: str = "",
) -> dict[str, Any]:
    return _memoised_paper_block(paper, tuple(matched), rank, marker, actions, note)


@functools.lru_cache(maxsize=4096)
def _memoised_paper_block(
    paper: Paper, matched: tuple[str, ...], rank: int | None, marker: str, actions: tuple[Action, ...], note: str = ""
) -> dict[str, Any]:
    # The same papers are rendered again and again (`today` for every channel, a digest fanned out to
    # thousands of channels), at different ranks and with different matched lines. The section is a
    # plain dict in exactly the shape slack_sdk's SectionBlock.to_dict() gives (a unit test holds the two
    # equal on real papers); its accessory is built by slack_sdk once per set of actions.
    text = marker + paper_text(paper, matched=matched, rank=rank, note=note)
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)}}
    element = _accessory_dict(actions)
    if element is not None:
        block["accessory"] = element
    return block


@functools.lru_cache(maxsize=2048)
def _accessory_dict(actions: tuple[Action, ...]) -> dict[str, Any] | None:
    element = accessory(actions)
    return None if element is None else element.to_dict()


@functools.lru_cache(maxsize=2048)
def _paper_fallback(paper: Paper) -> str:
    return f"{escape(' '.join(paper.title.split()))} (▲ {paper.upvotes}) {paper.hf_url}"


def _chunks(blocks: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [blocks[i : i + size] for i in range(0, len(blocks), size)] or [[]]


# ---------------------------------------------------------------------------------------------
# Delivery markers

MARKER_EVENT = "paperboy_delivery"


def delivery_marker(delivery_id: str, position: int) -> dict[str, Any]:
    """Message metadata naming the delivery and the part (0: the channel message, then thread replies)."""
    return {"event_type": MARKER_EVENT, "event_payload": {"delivery_id": delivery_id, "part": position}}


def marker_position(message: Mapping[str, Any], delivery_id: str) -> int | None:
    """Which part of `delivery_id` a message from history is, or None when it is not one of its parts.

    Messages posted before parts were numbered carry only the delivery id: they are the channel message.
    """
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != MARKER_EVENT:
        return None
    payload = metadata.get("event_payload") or {}
    if payload.get("delivery_id") != delivery_id:
        return None
    part = payload.get("part", 0)
    return part if isinstance(part, int) and part >= 0 else None


# ---------------------------------------------------------------------------------------------
# Message types


def render(message: Message) -> list[SlackPost]:
    """Render one semantic message as one or more Slack posts (later ones may go to the first's thread)."""
    match message:
        case TextReply():
            return [_render_text(message)]
        case PaperList():
            return _render_paper_list(message)
        case PaperCard():
            return [_render_card(message)]
        case Digest():
            return _render_digest(message)
        case TopicList():
            return _render_topics(message)
        case Status():
            return [_render_status(message)]
        case FollowUp():
            return [_render_followup(message)]
        case WeeklyRollup():
            return _render_weekly(message)
        case ExportFile():
            # The adapter uploads the file (files.uploadV2) with this line as its comment; where no upload
            # can be made (a private reply), this is what the user reads.
            return [_render_text(TextReply(f"📎 {message.filename}: {message.summary}", private=message.private))]
        case _:
            assert_never(message)


def _render_text(message: TextReply) -> SlackPost:
    body = escape(message.text)
    if message.is_error:
        body = f"⚠️ {body}"
    return SlackPost(text=_fallback(body), blocks=[])


def _render_paper_list(message: PaperList) -> list[SlackPost]:
    head: list[dict[str, Any]] = [_header(message.heading)]
    if message.note:
        head.append(_context(escape(message.note)))
    paper_blocks = [
        _paper_block(item.paper, matched=item.matched, rank=i, actions=item.actions, note=item.note)
        for i, item in enumerate(message.papers, start=1)
    ]
    tail: list[dict[str, Any]] = []
    if message.more > 0:
        papers = "more paper" if message.more == 1 and not message.more_estimated else "more papers"
        tail.append(_context(f"…and {paper_view.more_count(message)} {papers} matched."))
    if not message.papers:
        tail.append(_section("No papers to show."))
    return _split_posts(
        head, paper_blocks, tail, fallback=_list_fallback(message.heading, message.papers), top=len(paper_blocks)
    )


def _list_fallback(heading: str, papers: Sequence[ListedPaper]) -> str:
    lines = [escape(heading)] + [f"{i}. {_paper_fallback(p.paper)}" for i, p in enumerate(papers, start=1)]
    return "\n".join(lines)


def _split_posts(
    head: list[dict[str, Any]],
    paper_blocks: list[dict[str, Any]],
    tail: list[dict[str, Any]],
    *,
    fallback: str,
    top: int,
    metadata: dict[str, Any] | None = None,
) -> list[SlackPost]:
    """Channel post = head + first `top` papers (+ tail if it fits); the rest as thread replies.

    Keeps each post inside MAX_BLOCKS even when `top` would not fit.
    """
    room = MAX_BLOCKS - len(head) - len(tail)
    first_papers = paper_blocks[: min(top, room)]
    rest = paper_blocks[len(first_papers) :]
    first_blocks = head + first_papers + (tail if not rest else [])
    posts = [SlackPost(text=_fallback(fallback), blocks=first_blocks, metadata=metadata)]
    replies = _chunks(rest, PAPERS_PER_THREAD_REPLY) if rest else []
    for n, chunk in enumerate(replies, start=1):
        blocks = chunk + (tail if n == len(replies) else [])
        posts.append(SlackPost(text=_fallback(f"More papers ({n}/{len(replies)})"), blocks=blocks, thread=True))
    return posts


def _render_card(message: PaperCard) -> SlackPost:
    paper = message.paper
    blocks = [_header(" ".join(paper.title.split())), _paper_block(paper, actions=message.actions)]
    if paper.ai_keywords:
        blocks.append(_context("keywords: " + escape(truncate(", ".join(paper.ai_keywords), 500))))
    return SlackPost(text=_fallback(_paper_fallback(paper)), blocks=blocks)


def digest_heading(message: Digest) -> str:
    if message.channel.dm_user:
        n = len(message.entries)
        return f"Your follows · {day_label(message.day)} · {n} new paper{'' if n == 1 else 's'}"
    counts = []
    if message.trending_count:
        counts.append(f"{message.trending_count} trending")
    if message.topic_count:
        counts.append(f"{message.topic_count} for your topics")
    if message.rising_count:
        counts.append(f"{message.rising_count} rising")
    if not counts:
        counts.append("nothing new")
    return f"Papers for {day_label(message.day)} · " + ", ".join(counts)


def _render_digest(message: Digest) -> list[SlackPost]:
    posts = _digest_posts(paper_view.as_shown(message))
    if message.delivery_id:
        delivery_id = message.delivery_id
        return [replace(post, metadata=delivery_marker(delivery_id, i)) for i, post in enumerate(posts)]
    return list(posts)


@functools.lru_cache(maxsize=2048)
def _digest_posts(message: Digest) -> tuple[SlackPost, ...]:
    # Memoised on `paper_view.as_shown`: each distinct digest of a fan-out is rendered once; the
    # delivery id goes into the first post's metadata afterwards.
    heading = digest_heading(message)
    head: list[dict[str, Any]] = [_header(heading)]
    entries = list(message.entries)
    context = []
    if message.papers_day and message.papers_day != message.day:
        context.append(f"Daily Papers of {day_label(message.papers_day)}")
    if message.note:
        context.append(escape(message.note))
    if len(entries) > DIGEST_TOP_PAPERS:
        context.append(f"top {DIGEST_TOP_PAPERS} here, {len(entries) - DIGEST_TOP_PAPERS} more in the thread 🧵")
    if context:
        head.append(_context(" · ".join(context)))
    paper_blocks = [_digest_entry_block(e, i) for i, e in enumerate(entries, start=1)]
    tail: list[dict[str, Any]] = []
    if not entries:
        tail.append(_section("No new papers today."))
    fallback = escape(heading) + "\n" + "\n".join(_paper_fallback(e.paper) for e in entries[:DIGEST_TOP_PAPERS])
    return tuple(_split_posts(head, paper_blocks, tail, fallback=fallback, top=DIGEST_TOP_PAPERS))


_ENTRY_MARKERS = {DigestReason.TRENDING: "🔥 ", DigestReason.TOPIC: "", DigestReason.RISING: "📈 "}


def _digest_entry_block(entry: DigestEntry, rank: int) -> dict[str, Any]:
    note = f"rising: {paper_view.climb(entry.trajectory)}" if entry.trajectory is not None else ""
    feedback = paper_view.feedback_line(entry)
    if feedback:
        note = f"{note} · {feedback}" if note else feedback
    return _paper_block(
        entry.paper,
        matched=entry.matched,
        rank=rank,
        marker=_ENTRY_MARKERS[entry.reason],
        actions=entry.actions,
        note=note,
    )


FOLLOWS_EMPTY = "You follow nothing yet. `/papers follow <query>` adds one; its matches reach you by direct message."


def _render_topics(message: TopicList) -> list[SlackPost]:
    title = "Your follows" if message.personal else "Topics in this channel"
    head = [_header(f"{title} ({len(message.topics)}/{message.limit})")]
    blocks: list[dict[str, Any]] = []
    for topic in message.topics:
        text = (
            f"*#{topic.id}* `{escape(truncate(topic.query, 300))}`\n"
            f"{_plural(topic.matches_7d, 'match', 'matches')} in the last 7 days"
        )
        if topic.created_by and not message.personal:  # a person's follows are all their own
            text += f" · added by {escape(topic.created_by)}"
        if topic.refinement is not None:
            r = topic.refinement
            text += f"\n_suggested: `{escape(truncate(r.query, 300))}`: {escape(r.reason)}_"
        blocks.append(_section(text, accessory(topic.actions)))
    tail: list[dict[str, Any]] = []
    if not message.topics:
        empty = (
            escape(FOLLOWS_EMPTY) if message.personal else "No topics yet. Add one with `/papers subscribe <query>`."
        )
        tail.append(_section(empty))
    if message.topics:
        label = "Your follows: " if message.personal else "Topics: "
        fallback = label + "; ".join(f"#{t.id} {escape(t.query)}" for t in message.topics)
    else:
        fallback = "You follow nothing yet." if message.personal else "No topics in this channel yet."
    return _split_posts(head, blocks, tail, fallback=fallback, top=len(blocks))


def _fmt_dt(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M %Z").strip() if value is not None else "never"


def _render_status(message: Status) -> SlackPost:
    digest_state = "on" if message.digest_enabled else "off"
    lines = [
        f"*Digest:* {digest_state}, daily at {message.digest_time.strftime('%H:%M')} {escape(message.timezone)}",
        f"*Next digest:* {_fmt_dt(message.next_digest_at)}",
        f"*Last digest:* {_fmt_dt(message.last_digest_at)}",
    ]
    if message.last_delivery is not None:
        d = message.last_delivery
        result = f"{d.state.value}"
        if d.error:
            result += f" ({escape(truncate(d.error, 300))})"
        lines.append(f"*Last delivery:* {result} at {_fmt_dt(d.finished_at or d.claimed_at)}")
    if message.paused_reason:
        lines.append(f"⚠️ *Paused:* {escape(truncate(message.paused_reason, 500))}")
    for note in message.notes[:3]:
        lines.append(f"ℹ️ {escape(truncate(note, 500))}")
    lines.append(
        f"*Topics:* {message.topics} · *Papers stored:* {message.papers_stored}"
        f" · *Latest day:* {message.latest_day.isoformat() if message.latest_day else 'none'}"
    )
    if message.settings is not None:
        lines.append(escape(paper_view.following_line(message.settings)))
    for label, delivery in (("Last follow-up", message.last_followup), ("Last weekly rollup", message.last_weekly)):
        if delivery is not None:
            state = delivery.state.value + (f" ({escape(truncate(delivery.error, 200))})" if delivery.error else "")
            lines.append(f"*{label}:* {state} at {_fmt_dt(delivery.finished_at or delivery.claimed_at)}")
    source_lines = []
    for s in message.sources:
        line = f"• *{escape(s.source)}*: last success {_fmt_dt(s.last_success_at)}"
        if s.last_error:
            line += f"; last error {_fmt_dt(s.last_error_at)}: {escape(truncate(s.last_error, 200))}"
        if s.note:
            line += f"\n   ⚠️ {escape(truncate(s.note, 300))}"
        source_lines.append(line)
    blocks = [_header("Paperboy status"), _section("\n".join(lines))]
    if source_lines:
        blocks.append(_section("*Sources*\n" + "\n".join(source_lines)))
    fallback = "Paperboy status: digest " + digest_state
    if message.paused_reason:
        fallback += f" (paused: {escape(message.paused_reason)})"
    return SlackPost(text=_fallback(fallback), blocks=blocks)


def _render_followup(message: FollowUp) -> SlackPost:
    """One line in the paper's thread: what appeared, linked, and for which paper."""
    emoji, label, url, rest = paper_view.followup_parts(message)
    shown = message.detail or label
    what = (link(url, shown) if url else None) or escape(shown)
    title = link(message.paper.hf_url, truncate(" ".join(message.paper.title.split()), 200)) or escape(
        message.paper.title
    )
    text = f"{emoji} *{label}:* {what}{escape(rest)}\nfor {title}"
    return SlackPost(
        text=_fallback(f"{label}: {escape(shown)}{escape(rest)} for {escape(message.paper.title)}"),
        blocks=[_section(text)],
        thread_ts=message.parent,
    )


def _render_weekly(message: WeeklyRollup) -> list[SlackPost]:
    span = f"{day_label(message.start)} – {day_label(message.end)}"
    head: list[dict[str, Any]] = [_header(f"Your week in papers · {span}")]
    blocks: list[dict[str, Any]] = []
    for topic in message.topics:
        lines = [f"*`{escape(truncate(topic.query, 200))}`* · {_plural(topic.matched, 'paper')} this week"]
        for paper in topic.top:
            title = link(paper.hf_url, truncate(" ".join(paper.title.split()), 200)) or escape(paper.title)
            lines.append(f"• {title} (▲ {paper.upvotes})")
        blocks.append(_section("\n".join(lines)))
    if message.liked:
        liked = [
            f"• {link(p.hf_url, truncate(' '.join(p.title.split()), 200)) or escape(p.title)}" for p in message.liked
        ]
        blocks.append(_section("*Most liked here this week*\n" + "\n".join(liked)))
    if message.reading:
        text = "*Read and presented here this week*"
        for p, line in message.reading:
            title = link(p.hf_url, truncate(" ".join(p.title.split()), 160)) or escape(p.title)
            item = f"\n• {title} — {escape(truncate(line, 200))}"
            if len(text) + len(item) > MAX_SECTION_TEXT:
                break  # whole lines only: a cut line could cut a link in half
            text += item
        blocks.append(_section(text))
    tail = [_context("The week's most upvoted papers: `/papers top week`.")]
    if not message.topics:
        tail.insert(0, _section("This channel follows no topics yet: `/papers subscribe <query>` adds one."))
    fallback = f"Your week in papers ({span}): " + "; ".join(f"{t.query}: {t.matched}" for t in message.topics)
    posts = _split_posts(head, blocks, tail, fallback=escape(fallback), top=len(blocks))
    if message.delivery_id:
        delivery_id = message.delivery_id
        return [replace(post, metadata=delivery_marker(delivery_id, i)) for i, post in enumerate(posts)]
    return posts


__all__ = [
    "MAX_BLOCKS",
    "MAX_BUTTON_TEXT",
    "MAX_HEADER_TEXT",
    "MAX_SECTION_TEXT",
    "SlackPost",
    "escape",
    "render",
]


HOME_COMMANDS = 40
"""Slack allows 100 blocks in a Home view; the commands take one section each, with room to spare."""
HOME_BLOCKS = 100
"""Slack's limit of blocks in a view (views.publish refuses more)."""
HOME_PAPERS = 10
"""The most of a person's latest matches the Home tab lists (each one section)."""
HOME_NOTICES = 3


def render_home(
    specs: Sequence[CommandSpec],
    command: str = "/papers",
    messages: Sequence[Message] = (),
    *,
    notice: Sequence[str] = (),
) -> dict[str, Any]:
    """The App Home tab: how to use Paperboy, the person's follows (an Unfollow button each) and latest
    matches, then every command (from the core's specs).

    `messages` is what the core's `following` answered for the person: their `TopicList(personal=True)`,
    a `TextReply` about their DM (schedule, pause) and a `PaperList` of their latest matches; anything
    else is shown as it would be in a message. `notice` is what a button pressed on the Home tab answered.
    Whatever the person follows, the view stays within Slack's 100 blocks.
    """
    intro: list[dict[str, Any]] = [
        _header("Paperboy"),
        *(_context(escape(truncate(text, 500))) for text in notice[:HOME_NOTICES]),
        _section(
            "The day's trending machine-learning papers from Hugging Face Daily Papers, in your channels.\n"
            f"• In a channel: `{command} subscribe &lt;query&gt;` follows a topic; its matches arrive with the "
            "daily digest.\n"
            f"• For you alone: `{command} follow &lt;query&gt;` follows a topic; its matches reach you by direct "
            f"message, here in the *Messages* tab. `{command} following` lists your follows.\n"
            "• 👍 and 👎 on any paper teach that channel's digest what to put first; "
            f"`{command} why &lt;arXiv id&gt;` says what they changed.\n"
            "• Here, in the *Messages* tab, type any command without the slash: `today 3`, `search moe`, "
            "`paper 2402.17764`."
        ),
        _divider(),
    ]
    commands = [
        _section(f"`{escape(truncate(spec.usage, 200))}`\n{escape(truncate(spec.summary, 400))}")
        for spec in specs[:HOME_COMMANDS]
    ]
    personal = _home_personal(messages)
    room = HOME_BLOCKS - len(intro) - len(commands)
    if personal:
        if len(personal) + 1 > room:
            # The follows come first: what is cut is the end of the matches (or of a long follows list).
            personal = personal[: max(room - 2, 0)]
            personal.append(_context(f"…more with `{command} following` in the *Messages* tab."))
        personal.append(_divider())
    return {"type": "home", "blocks": intro + personal + commands}


def _home_personal(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The person's part of the Home tab: follows, then what their DM looks like, then their matches."""
    order = {TopicList: 0, TextReply: 1, PaperList: 2}
    blocks: list[dict[str, Any]] = []
    for message in sorted(messages, key=lambda m: order.get(type(m), 3)):
        match message:
            case TopicList():
                blocks.extend(block for post in _render_topics(message) for block in post.blocks)
            case TextReply():
                body = ("⚠️ " if message.is_error else "") + escape(truncate(message.text, 1500))
                blocks.append(_context(body))
            case PaperList():
                blocks.append(_header(message.heading))
                for item in message.papers[:HOME_PAPERS]:
                    blocks.append(_section(_home_paper(item), accessory(item.actions)))
                more = message.more + max(len(message.papers) - HOME_PAPERS, 0)
                if more > 0:
                    blocks.append(_context(f"…and {_plural(more, 'more paper')}."))
                if not message.papers:
                    blocks.append(_context("No papers to show."))
            case _:
                for post in render(message):
                    blocks.extend(post.blocks or [_section(post.text)])
    return blocks


def _home_paper(item: ListedPaper) -> str:
    paper = item.paper
    title = " ".join(paper.title.split())
    linked = link(paper.hf_url, truncate(title, 300)) or escape(truncate(title, 300))
    arxiv = link(paper.arxiv_url, f"arXiv:{paper.id}") or escape(f"arXiv:{paper.id}")
    text = f"*{linked}*\n{arxiv}"
    reasons = [r for r in item.matched if r.strip()]
    if reasons:
        text += "\n_matched: " + escape(truncate(", ".join(reasons), 300)) + "_"
    return text

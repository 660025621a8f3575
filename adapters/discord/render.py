"""Semantic messages -> Discord message payloads (content, embeds, button rows). Pure functions.

Everything here produces plain dicts in Discord's API shape, so the same payload goes to
`POST /channels/{id}/messages` (scheduled posts) and to interaction follow-ups.

Discord's limits are enforced here, not hoped for: content <= 2,000 characters; per message <= 10
embeds whose title, description, field names/values, footer and author texts add up to <= 6,000
characters; per embed: title <= 256, description <= 4,096, <= 25 fields (name <= 256, value <= 1,024),
footer <= 2,048; <= 5 action rows of <= 5 buttons, custom ids <= 100 characters.

A long digest continues in follow-up posts marked `thread=True`: the adapter posts them in a thread
created from the first (channel-level) message, and falls back to plain follow-ups in the channel
when it cannot create a thread (DMs, interaction replies, missing Create Public Threads).

Paper text is untrusted: it is markdown-escaped and every mention form (`@everyone`, `@here`,
`<@id>`, `<@!id>`, `<@&id>`, `<#id>`) is broken with a zero-width space, so that even without
`allowed_mentions` nothing in a title or abstract can ping or render as a mention.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, assert_never
from urllib.parse import quote, urlsplit

from discord.utils import escape_markdown, escape_mentions

from adapters import paper_view
from bot import actions as codec
from bot.types import (
    Action,
    ActionStyle,
    Digest,
    DigestEntry,
    DigestReason,
    ExportFile,
    FollowUp,
    Message,
    Paper,
    PaperCard,
    PaperList,
    Status,
    TextReply,
    TopicList,
    WeeklyRollup,
)

CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL_LIMIT = 6000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELDS_PER_EMBED = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
BUTTONS_PER_ROW = 5
ROWS_PER_MESSAGE = 5
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80

EXCERPT_CHARS = 350
"""Description length for a paper embed: long enough for an AI summary, short enough to scan."""

_COLOR_PAPER = 0xFFD21E  # Hugging Face yellow
_COLOR_INFO = 0x5865F2
_COLOR_ERROR = 0xED4245
_ZWSP = "\u200b"
_BUTTON_PRIMARY = 1
_BUTTON_SECONDARY = 2
_BUTTON_DANGER = 4


@dataclass(frozen=True, slots=True)
class DiscordPost:
    """One Discord message to send.

    `components` are action rows (type 1) of buttons (type 2). `thread` means "post in the thread
    created from the first post of this render" (plain follow-up when that is impossible). `under`
    means "post in the thread of that message" (a follow-up under the message that carried a paper):
    the thread is created when there is none yet, and the post is a reply to that message in the
    channel when no thread can be made. `ephemeral` only means something for interaction replies.
    """

    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = False
    thread: bool = False
    under: str | None = None
    files: tuple[tuple[str, bytes], ...] = ()
    """Attachments: (filename, bytes), sent as multipart form data."""

    def payload(self) -> dict[str, Any]:
        """The JSON body for `POST /channels/{id}/messages` (without nonce and allowed_mentions)."""
        body: dict[str, Any] = {}
        if self.content:
            body["content"] = self.content
        if self.embeds:
            body["embeds"] = self.embeds
        if self.components:
            body["components"] = self.components
        return body


# ---------------------------------------------------------------------------------------------
# Text safety


_MENTION_FORMS = re.compile(r"<(@[!&]?|#|/)")
_BROADCAST = re.compile(r"@(everyone|here)", re.IGNORECASE)


def neutralise_mentions(text: str) -> str:
    """Break every mention form with a zero-width space (rendered text stays readable)."""
    text = escape_mentions(text)
    text = _BROADCAST.sub(lambda m: "@" + _ZWSP + m.group(1), text)
    return _MENTION_FORMS.sub(lambda m: "<" + _ZWSP + m.group(1), text)


# A digest fan-out renders the same papers for thousands of channels; escaping is the costly part
# (regular expressions), and these are pure functions of immutable values, so each runs once per text.
# Cache sizes here and below hold one fan-out's working set (bench/fanout: ~3,600 embeds and ~1,800
# distinct digests for 5,000 channels) and bound what a long-running bot keeps (a few MB per cache).
@functools.lru_cache(maxsize=8192)
def safe(text: str) -> str:
    """Untrusted text -> markdown-escaped, mention-free text."""
    return neutralise_mentions(escape_markdown(text))


def fit(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters with an ellipsis, preferring a word boundary.

    Never leaves a dangling escape backslash at the cut.
    """
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    cut = cut.rstrip()
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + "…"


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL that can sit inside a markdown link, else None."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in " <>\n\t\"'`"):
        return None
    return quote(url, safe=":/?#@!$&*+,;=%~-._[]")


# ---------------------------------------------------------------------------------------------
# Paper pieces


def short_authors(authors: Sequence[str], shown: int = 3) -> str:
    return paper_view.short_authors(authors, shown) or "unknown"


@functools.lru_cache(maxsize=2048)
def _excerpt(paper: Paper, limit: int = EXCERPT_CHARS) -> str:
    return fit(safe(paper_view.summary(paper)), limit)


@functools.lru_cache(maxsize=2048)
def _links(paper: Paper) -> str:
    # The embed's title already links the Hugging Face page.
    found = [(label, safe_url(url)) for label, url in paper_view.paper_links(paper) if label != "Hugging Face"]
    return " · ".join(f"[{label}]({url})" for label, url in found if url)


def _stats(paper: Paper) -> str:
    text = f"▲ {paper.upvotes} · 💬 {paper.comments}"
    if paper.github_stars:
        text += f" · ★ {paper.github_stars}"
    return text


def paper_embed(
    paper: Paper,
    *,
    number: int | None = None,
    matched: Sequence[str] = (),
    excerpt_chars: int = EXCERPT_CHARS,
    keywords: bool = False,
    rising: str = "",
    feedback: str = "",
    note: str = "",
) -> dict[str, Any]:
    """One paper as a new embed (digests share theirs through `_memoised_block`)."""
    prefix = f"{number}. " if number is not None else ""
    embed: dict[str, Any] = {
        "type": "rich",
        "title": fit(prefix + safe(paper.title), TITLE_LIMIT),
        "url": paper.hf_url,
        "description": _excerpt(paper, excerpt_chars),
        "color": _COLOR_PAPER,
    }
    fields = [
        _field("Authors", safe(short_authors(paper.authors)), inline=True),
        _field("Votes", _stats(paper), inline=True),
    ]
    if rising:
        fields.append(_field("📈 Rising", safe(rising)))
    if matched:
        fields.append(_field("Matched", safe("; ".join(matched))))
    if feedback:
        fields.append(_field("This channel's votes", safe(feedback)))
    if note:
        fields.append(_field("Library", safe(note)))
    if keywords and paper.ai_keywords:
        fields.append(_field("Keywords", safe(", ".join(paper.ai_keywords[:12]))))
    fields.append(_field("Links", _links(paper)))
    embed["fields"] = fields
    thumb = safe_url(paper.thumbnail)
    if thumb and thumb.startswith("https://"):
        embed["thumbnail"] = {"url": thumb}
    return embed


def _field(name: str, value: str, *, inline: bool = False) -> dict[str, Any]:
    return {
        "name": fit(name, FIELD_NAME_LIMIT) or _ZWSP,
        "value": fit(value, FIELD_VALUE_LIMIT) or _ZWSP,
        "inline": inline,
    }


def _button(label: str, custom_id: str, style: int = _BUTTON_SECONDARY) -> dict[str, Any]:
    return {
        "type": 2,
        "style": style,
        "label": fit(label, BUTTON_LABEL_LIMIT),
        "custom_id": custom_id[:CUSTOM_ID_LIMIT],
    }


# Discord has no "default" button: its usual one is the blurple primary.
_STYLES = {
    ActionStyle.DEFAULT: _BUTTON_PRIMARY,
    ActionStyle.PRIMARY: _BUTTON_PRIMARY,
    ActionStyle.DANGER: _BUTTON_DANGER,
}


def action_buttons(actions: Sequence[Action], number: int | None = None) -> list[dict[str, Any]]:
    """Buttons for `actions`, their custom ids the encoded actions; in a numbered list each label says
    which paper it is for ("1. More like this"), since the buttons sit below all the embeds."""
    prefix = f"{number}. " if number is not None else ""
    return [_button(prefix + a.label, codec.encode(a), _STYLES[a.style]) for a in actions if codec.fits(a)]


def embed_chars(embed: dict[str, Any]) -> int:
    """Characters Discord counts toward the 6,000 per-message embed total."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    for f in embed.get("fields", []):
        total += len(f.get("name", "")) + len(f.get("value", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    total += len(embed.get("author", {}).get("name", ""))
    return total


# ---------------------------------------------------------------------------------------------
# Packing: split content, embeds and buttons into posts that respect every limit


@dataclass(slots=True)
class _Block:
    embed: dict[str, Any]
    buttons: list[dict[str, Any]]
    size: int | None = None
    """`embed_chars(embed)` when already known (memoised paper embeds); None: count when packing."""


def _rows(buttons: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": 1, "components": list(buttons[i : i + BUTTONS_PER_ROW])}
        for i in range(0, len(buttons), BUTTONS_PER_ROW)
    ]


def split_text(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Split on line boundaries (then hard) so that each part is <= limit."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            head = fit(line, limit)
            parts.append(head)
            line = line[len(head) - 1 :].lstrip() if head.endswith("…") else line[len(head) :]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


def _pack(
    content: str,
    blocks: Sequence[_Block],
    *,
    ephemeral: bool,
    follow_up_in_thread: bool = False,
    first_message_embeds: int = EMBEDS_PER_MESSAGE,
) -> list[DiscordPost]:
    posts: list[DiscordPost] = []
    texts = split_text(content) if content else [""]
    for text in texts[:-1]:
        posts.append(DiscordPost(content=text, ephemeral=ephemeral))
    pending_content = texts[-1]
    embeds: list[dict[str, Any]] = []
    # Each block's buttons start a row of their own (a paper's 👍 👎 More like this Save share one row,
    # never a row with the next paper's): a message holds ROWS_PER_MESSAGE of them.
    rows: list[dict[str, Any]] = []
    chars = 0

    def flush() -> None:
        nonlocal pending_content, embeds, rows, chars
        posts.append(
            DiscordPost(
                content=pending_content,
                embeds=embeds,
                components=rows,
                ephemeral=ephemeral,
                thread=follow_up_in_thread and bool(posts),
            )
        )
        pending_content, embeds, rows, chars = "", [], [], 0

    for block in blocks:
        block.embed, size = _fitted(block.embed, block.size)
        block_rows = _rows(block.buttons)[:ROWS_PER_MESSAGE]
        cap = first_message_embeds if not posts else EMBEDS_PER_MESSAGE
        if embeds and (
            len(embeds) >= cap or chars + size > EMBED_TOTAL_LIMIT or len(rows) + len(block_rows) > ROWS_PER_MESSAGE
        ):
            flush()
        embeds.append(block.embed)
        rows.extend(block_rows)
        chars += size
    if embeds or pending_content or not posts:
        flush()
    return posts


def _fitted(embed: dict[str, Any], size: int | None = None) -> tuple[dict[str, Any], int]:
    """`embed` and its size if it fits the per-message total on its own; else a shortened copy.

    Embeds are shared (memoised), so shortening works on a copy of the embed and of its fields.
    """
    if size is None:
        size = embed_chars(embed)
    if size <= EMBED_TOTAL_LIMIT:
        return embed, size
    embed = {**embed, "fields": [dict(f) for f in embed.get("fields", [])]}
    return embed, _shrink(embed)


def _shrink(embed: dict[str, Any]) -> int:
    """Cut the longest texts of `embed` (in place) until it fits the per-message total; its size."""
    for _ in range(64):  # each round at least halves the longest text; a handful of rounds suffice
        size = embed_chars(embed)
        if size <= EMBED_TOTAL_LIMIT:
            return size
        over = size - EMBED_TOTAL_LIMIT
        fields = embed.get("fields", [])
        longest = max(fields, key=lambda f: len(f["value"]), default=None)
        desc = len(embed.get("description", ""))
        if longest is not None and len(longest["value"]) >= desc:
            longest["value"] = fit(longest["value"], max(len(longest["value"]) - over, len(longest["value"]) // 2, 1))
        else:
            embed["description"] = fit(embed["description"], max(desc - over, desc // 2, 1))
    return embed_chars(embed)


def _with_marker(posts: list[DiscordPost], marker: str | None) -> list[DiscordPost]:
    """Put each post's `ref <marker>` (`ref <marker>.<part>` after the first) where find_parts looks: the
    post's last embed footer, or its content."""
    if not marker or not posts:
        return posts
    return [_marked(post, marker_text(marker, position)) for position, post in enumerate(posts)]


def mark(post: DiscordPost, tag: str) -> DiscordPost:
    """`post` carrying the marker `tag` (see `marker_text`) where `marker_positions` finds it."""
    return _marked(post, tag)


def _marked(post: DiscordPost, tag: str) -> DiscordPost:
    if post.embeds:
        last = dict(post.embeds[-1])
        footer = last.get("footer", {}).get("text", "")
        text = f"{footer} · {tag}" if footer else f"Paperboy · {tag}"
        total = sum(embed_chars(e) for e in post.embeds)
        if total - len(footer) + len(text) <= EMBED_TOTAL_LIMIT and len(text) <= FOOTER_LIMIT:
            last["footer"] = {"text": text}
            return _replace(post, embeds=[*post.embeds[:-1], last])
    line = f"-# {tag}"
    content = f"{post.content}\n{line}" if post.content else line
    if len(content) > CONTENT_LIMIT:
        content = fit(post.content, CONTENT_LIMIT - len(line) - 1) + "\n" + line
    return _replace(post, content=content)


def _replace(post: DiscordPost, **changes: Any) -> DiscordPost:
    values: dict[str, Any] = {
        "content": post.content,
        "embeds": post.embeds,
        "components": post.components,
        "ephemeral": post.ephemeral,
        "thread": post.thread,
        "under": post.under,
    }
    values.update(changes)
    return DiscordPost(**values)


MARKER_ID_CHARS = 12


def marker_text(delivery_id: str, position: int = 0) -> str:
    """The visible marker that `render(..., marker=delivery_id)` puts on part `position` of a delivery."""
    tag = f"ref {delivery_id[:MARKER_ID_CHARS]}"
    return tag if position == 0 else f"{tag}.{position}"


def marker_positions(message: dict[str, Any] | Any, delivery_id: str) -> set[int]:
    """The parts of `delivery_id` whose markers a message (as the API returns it) carries."""
    texts = [str(message.get("content", ""))]
    texts += [str((e.get("footer") or {}).get("text", "")) for e in message.get("embeds") or []]
    # "ref <id>" is part 0, "ref <id>.<n>" part n; nothing may follow that would make it another id.
    marker = re.compile(r"\bref " + re.escape(delivery_id[:MARKER_ID_CHARS]) + r"(?:\.(\d{1,3}))?(?![\w.-])")
    return {int(m.group(1) or 0) for text in texts for m in marker.finditer(text)}


# ---------------------------------------------------------------------------------------------
# Message types


def render(message: Message, *, marker: str | None = None) -> list[DiscordPost]:
    """Render one semantic message as Discord posts, first post first.

    `marker` (a delivery id) is made visible on the first post; a Digest uses its own
    `delivery_id` when no marker is given.
    """
    match message:
        case TextReply():
            posts = _render_text(message)
        case PaperList():
            posts = _render_paper_list(message)
        case PaperCard():
            posts = _render_card(message)
        case Digest():
            # Memoised on `paper_view.as_shown`: each distinct digest of a fan-out is rendered once; the
            # delivery id becomes the marker afterwards.
            posts = list(_render_digest(paper_view.as_shown(message)))
            marker = marker or message.delivery_id
        case TopicList():
            posts = _render_topics(message)
        case Status():
            posts = _render_status(message)
        case FollowUp():
            posts = [_render_followup(message)]
        case WeeklyRollup():
            posts = _render_weekly(message)
        case ExportFile():
            content = safe(f"📎 {message.summary}")
            files = ((message.filename, message.content.encode()),)
            posts = [DiscordPost(content=content, ephemeral=message.private, files=files)]
        case _:
            assert_never(message)
    return _with_marker(posts, marker)


def _render_text(message: TextReply) -> list[DiscordPost]:
    text = safe(message.text)
    if message.is_error:
        text = "⚠️ " + text
    return [DiscordPost(content=part, ephemeral=message.private) for part in split_text(text)]


_Shown = tuple[Paper, Sequence[str], tuple[Action, ...], str, str, str]
"""A paper as a list shows it: the paper, why it matched, its buttons, how it rose (or ""), what this
channel's votes did to it (or ""), its note (or "")."""


def _paper_blocks(entries: Iterable[_Shown], excerpt_chars: int) -> list[_Block]:
    blocks = []
    for number, (paper, matched, actions, rising, feedback, note) in enumerate(entries, start=1):
        embed, size, buttons = _memoised_block(
            paper, number, tuple(matched), excerpt_chars, actions, rising, feedback, note
        )
        blocks.append(_Block(embed, list(buttons), size))
    return blocks


@functools.lru_cache(maxsize=4096)
def _memoised_block(
    paper: Paper,
    number: int,
    matched: tuple[str, ...],
    excerpt_chars: int,
    actions: tuple[Action, ...],
    rising: str = "",
    feedback: str = "",
    note: str = "",
) -> tuple[dict[str, Any], int, tuple[dict[str, Any], ...]]:
    # A fan-out shows the same papers at the same numbers in thousands of digests: the embed, its size
    # and its buttons are built once and shared (never changed: see `_fitted`).
    embed = paper_embed(
        paper,
        number=number,
        matched=matched,
        excerpt_chars=excerpt_chars,
        rising=rising,
        feedback=feedback,
        note=note,
    )
    return embed, embed_chars(embed), tuple(action_buttons(actions, number))


def _render_paper_list(message: PaperList) -> list[DiscordPost]:
    lines = [f"**{safe(message.heading)}**"]
    if message.note:
        lines.append(safe(message.note))
    if not message.papers:
        lines.append("No papers to show.")
    blocks = _paper_blocks(
        ((lp.paper, lp.matched, lp.actions, "", "", lp.note) for lp in message.papers), EXCERPT_CHARS
    )
    if message.more > 0 and blocks:
        footer = {"text": f"…and {paper_view.more_count(message)} more. Narrow the query to see them."}
        blocks[-1].embed = {**blocks[-1].embed, "footer": footer}
    elif message.more > 0:
        lines.append(f"…and {paper_view.more_count(message)} more.")
    return _pack("\n".join(lines), blocks, ephemeral=message.private)


def _render_card(message: PaperCard) -> list[DiscordPost]:
    paper = message.paper
    embed = paper_embed(paper, excerpt_chars=1000, keywords=True)
    extra = []
    if paper.published_at:
        extra.append(f"published {paper.published_at:%Y-%m-%d}")
    if paper.first_featured:
        extra.append(f"featured {paper.first_featured:%Y-%m-%d}")
    if paper.withdrawn:
        extra.append("withdrawn")
    embed["footer"] = {"text": fit(f"arXiv {paper.id}" + "".join(f" · {e}" for e in extra), FOOTER_LIMIT)}
    return _pack("", [_Block(embed, action_buttons(message.actions))], ephemeral=message.private)


def _entry_matched(reason: DigestReason, matched: Sequence[str]) -> Sequence[str]:
    if matched:
        return matched
    return ("trending today",) if reason is DigestReason.TRENDING else ()


def _entry_block(entry: DigestEntry) -> _Shown:
    rising = paper_view.climb(entry.trajectory) if entry.trajectory is not None else ""
    matched = _entry_matched(entry.reason, entry.matched)
    return entry.paper, matched, entry.actions, rising, paper_view.feedback_line(entry), ""


@functools.lru_cache(maxsize=2048)
def _render_digest(message: Digest) -> tuple[DiscordPost, ...]:
    n = len(message.entries)
    head = f"📰 **Paperboy digest · {message.day:%a %d %b %Y}** · {n} paper{'s' if n != 1 else ''}"
    if message.channel.dm_user:
        head = f"📬 **Your follows · {message.day:%a %d %b %Y}** · {n} new paper{'s' if n != 1 else ''}"
    counts = []
    if message.trending_count:
        counts.append(f"{message.trending_count} trending")
    if message.topic_count:
        counts.append(f"{message.topic_count} from your topics")
    if message.rising_count:
        counts.append(f"{message.rising_count} rising")
    if counts and not message.channel.dm_user:
        head += f" ({', '.join(counts)})"
    lines = [head]
    if message.papers_day and message.papers_day != message.day:
        lines.append(f"Daily Papers of {message.papers_day:%a %d %b %Y}.")
    if message.note:
        lines.append(safe(message.note))
    blocks = _paper_blocks((_entry_block(e) for e in message.entries), EXCERPT_CHARS)
    posts = _pack("\n".join(lines), blocks, ephemeral=message.private, follow_up_in_thread=True)
    if len(posts) > 1:
        shown = len(posts[0].embeds)
        more = f"Top {shown} here; the other {n - shown} follow below."
        if len(posts[0].content) + len(more) + 1 <= CONTENT_LIMIT:
            posts[0] = _replace(posts[0], content=f"{posts[0].content}\n{more}")
    return tuple(posts)


FOLLOWS_EMPTY = "You follow nothing yet. `/papers follow <query>` adds one; its matches reach you by direct message."


def _render_topics(message: TopicList) -> list[DiscordPost]:
    count = len(message.topics)
    title = "Your follows" if message.personal else "Topics of this channel"
    head = f"**{title}** · {count} of {message.limit}"
    if not message.topics:
        hint = FOLLOWS_EMPTY if message.personal else "No topics yet. Add one with `/papers subscribe`."
        return [DiscordPost(content=f"{head}\n{hint}", ephemeral=message.private)]
    blocks: list[_Block] = []
    embed: dict[str, Any] = {}
    buttons: list[dict[str, Any]] = []
    for topic in message.topics:
        fld = _field(
            f"#{topic.id} · {topic.matches_7d} match{'es' if topic.matches_7d != 1 else ''} in 7 days",
            safe(topic.query)
            + (f"\nadded by {safe(topic.created_by)}" if topic.created_by and not message.personal else "")
            + (
                f"\nsuggested: `{safe(topic.refinement.query)}`: {safe(topic.refinement.reason)}"
                if topic.refinement is not None
                else ""
            ),
        )
        size = len(fld["name"]) + len(fld["value"])
        if embed and (len(embed["fields"]) >= 10 or embed_chars(embed) + size > 2900):
            blocks.append(_Block(embed, buttons))
            embed, buttons = {}, []
        if not embed:
            embed = {"type": "rich", "color": _COLOR_INFO, "fields": []}
        embed["fields"].append(fld)
        buttons.extend(action_buttons(topic.actions))
    blocks.append(_Block(embed, buttons))
    return _pack(head, blocks, ephemeral=message.private)


def _when(value: datetime | None) -> str:
    if value is None:
        return "never"
    stamp = int(value.timestamp())
    return f"<t:{stamp}:f> (<t:{stamp}:R>)"


def _render_status(message: Status) -> list[DiscordPost]:
    digest = f"on, daily at {message.digest_time:%H:%M} {safe(message.timezone)}" if message.digest_enabled else "off"
    fields = [
        _field("Digest", digest, inline=True),
        _field("Topics", str(message.topics), inline=True),
        _field("Papers stored", f"{message.papers_stored} (latest day {message.latest_day or 'none'})", inline=True),
        _field("Next digest", _when(message.next_digest_at) if message.digest_enabled else "paused", inline=True),
        _field("Last digest", _when(message.last_digest_at), inline=True),
    ]
    if message.last_delivery is not None:
        d = message.last_delivery
        text = f"{d.state.value} {_when(d.finished_at or d.claimed_at)}"
        if d.error:
            text += f"\n{safe(d.error)}"
        fields.append(_field("Last delivery", text))
    if message.paused_reason:
        fields.append(_field("⚠️ Paused", safe(message.paused_reason)))
    for note in message.notes[:3]:
        fields.append(_field("ℹ️ Note from Discord", safe(note)))
    if message.settings is not None:
        fields.append(_field("Following", paper_view.following_line(message.settings)))
    for label, delivery in (("Last follow-up", message.last_followup), ("Last weekly rollup", message.last_weekly)):
        if delivery is not None:
            text = f"{delivery.state.value} {_when(delivery.finished_at or delivery.claimed_at)}"
            if delivery.error:
                text += f"\n{safe(delivery.error)}"
            fields.append(_field(label, text, inline=True))
    for health in message.sources[: FIELDS_PER_EMBED - len(fields)]:
        text = f"last success {_when(health.last_success_at)}"
        if health.last_result:
            text += f"\n{safe(health.last_result)}"
        if health.last_error:
            text += f"\nlast error {_when(health.last_error_at)}: {safe(health.last_error)}"
        if health.note:
            text += f"\n⚠️ {safe(health.note)}"
        fields.append(_field(f"Source: {safe(health.source)}", text))
    embed: dict[str, Any] = {
        "type": "rich",
        "title": "Paperboy status for this channel",
        "color": _COLOR_ERROR if message.paused_reason else _COLOR_INFO,
        "fields": fields,
    }
    return _pack("", [_Block(embed, [])], ephemeral=message.private)


def _render_followup(message: FollowUp) -> DiscordPost:
    """One line under the message that carried the paper: what appeared, linked, and for which paper."""
    emoji, label, url, rest = paper_view.followup_parts(message)
    shown = safe(fit(message.detail or label, 200))
    link = safe_url(url)
    what = f"[{shown}](<{link}>)" if link else shown
    title = safe(fit(" ".join(message.paper.title.split()), 200))
    paper = safe_url(message.paper.hf_url)
    for_paper = f"[{title}](<{paper}>)" if paper else title
    content = fit(f"{emoji} **{label}:** {what}{safe(rest)}\nfor {for_paper}", CONTENT_LIMIT)
    return DiscordPost(content=content, ephemeral=message.private, under=message.parent)


def _render_weekly(message: WeeklyRollup) -> list[DiscordPost]:
    span = f"{message.start:%a %d %b} – {message.end:%a %d %b %Y}"
    head = f"🗓️ **Your week in papers · {span}**"
    if not message.topics:
        head += "\nThis channel follows no topics yet: `/papers subscribe` adds one."
    fields = []
    for topic in message.topics:
        lines = [f"{topic.matched} paper{'s' if topic.matched != 1 else ''} this week"]
        for paper in topic.top:
            url = safe_url(paper.hf_url)
            title = safe(fit(" ".join(paper.title.split()), 180))
            lines.append(f"• [{title}]({url}) (▲ {paper.upvotes})" if url else f"• {title} (▲ {paper.upvotes})")
        fields.append(_field(safe(topic.query), "\n".join(lines)))
    if message.liked:
        liked = [f"• {safe(fit(' '.join(p.title.split()), 180))}" for p in message.liked]
        fields.append(_field("Most liked here this week", "\n".join(liked)))
    if message.reading:
        read = [f"• {safe(fit(' '.join(p.title.split()), 150))} — {safe(line)}" for p, line in message.reading]
        fields.append(_field("Read and presented here this week", "\n".join(read)))
    blocks: list[_Block] = []
    for start in range(0, len(fields), 10):  # ten topics to an embed keeps each well under 6,000 characters
        embed = {"type": "rich", "color": _COLOR_INFO, "fields": fields[start : start + 10]}
        blocks.append(_Block(embed, []))
    if blocks:
        blocks[-1].embed["footer"] = {"text": "The week's most upvoted papers: /papers top week"}
    else:
        head += "\nThe week's most upvoted papers: `/papers top week`."
    return _pack(head, blocks, ephemeral=message.private, follow_up_in_thread=True)

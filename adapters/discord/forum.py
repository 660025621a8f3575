"""Semantic messages -> forum posts (Discord forum and media channels). Pure functions.

In a forum every item is its own post: a thread with a name and a first message, tagged. A digest
becomes one post per paper (part `i` of the delivery is paper `i`): the title cut to Discord's 100
characters as the post's name, the paper's card (embed, links, buttons) as its first message, and the
tags of the topics that matched plus "trending". There is no separate summary message in a forum.
Any other message (an empty digest's note, a weekly rollup) is one post whose first message is its
first part; the other parts go inside that post.

Discord's forum limits, enforced here: post name 1..100 characters, at most 5 tags on a post, tag
names at most 20 characters, at most 20 tags on a forum. A topic whose text is longer than a tag
name can be is not a tag (its "Matched" line on the card still says it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.types import Digest, DigestEntry, DigestReason, Message, WeeklyRollup

from . import render as r

POST_NAME_LIMIT = 100
TAGS_PER_POST = 5
TAG_NAME_LIMIT = 20
TAGS_PER_FORUM = 20
TRENDING_TAG = "trending"


@dataclass(frozen=True, slots=True)
class ForumPost:
    """One forum post: its name, the tags it wants (by name, best first) and its first message."""

    name: str
    tags: tuple[str, ...]
    first: r.DiscordPost


def post_name(text: str) -> str:
    """A post name: whitespace collapsed, cut to 100 characters, never empty.

    Discord shows names as plain text (no markdown, no mentions), so the title is not escaped.
    """
    name = " ".join(text.split())
    return r.fit(name, POST_NAME_LIMIT) or "Paperboy"


def entry_tags(entry: DigestEntry) -> tuple[str, ...]:
    """The tags a digest paper wants: its matched topics that fit a tag name, and "trending"."""
    wanted: list[str] = []
    if entry.reason is DigestReason.TRENDING:
        wanted.append(TRENDING_TAG)
    for topic in entry.matched:
        name = " ".join(topic.split())
        if 0 < len(name) <= TAG_NAME_LIMIT and name.casefold() not in {w.casefold() for w in wanted}:
            wanted.append(name)
    return tuple(wanted)


def _rows(buttons: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": 1, "components": list(buttons[i : i + 5])} for i in range(0, len(buttons), 5)]


def _paper_post(entry: DigestEntry, marker: str | None, position: int) -> ForumPost:
    matched = tuple(entry.matched) or (("trending today",) if entry.reason is DigestReason.TRENDING else ())
    embed = r.paper_embed(entry.paper, matched=matched, excerpt_chars=r.EXCERPT_CHARS * 2)
    first = r.DiscordPost(embeds=[embed], components=_rows(r.action_buttons(entry.actions)))
    if marker:
        first = r.mark(first, r.marker_text(marker, position))
    return ForumPost(post_name(entry.paper.title), entry_tags(entry), first)


def message_name(message: Message) -> str:
    match message:
        case Digest():
            return f"Paperboy digest · {message.day:%a %d %b %Y}"
        case WeeklyRollup():
            return f"Your week in papers · {message.start:%d %b} – {message.end:%d %b %Y}"
        case _:
            return "Paperboy"


def forum_posts(message: Message, *, marker: str | None) -> tuple[list[ForumPost], list[r.DiscordPost]]:
    """The posts `message` makes in a forum, and the parts that go inside the first post after it.

    A digest with papers: one post per paper and nothing inside. Anything else: one post, its other
    parts inside it, numbered on from 1 like the parts of a channel message.
    """
    if isinstance(message, Digest) and message.entries:
        marker = marker or message.delivery_id
        return [_paper_post(entry, marker, i) for i, entry in enumerate(message.entries)], []
    if isinstance(message, Digest):
        marker = marker or message.delivery_id
    parts = r.render(message, marker=marker)
    first, rest = parts[0], parts[1:]
    return [ForumPost(post_name(message_name(message)), (), first)], rest


def tags_to_create(wanted: Iterable[str], available: Mapping[str, int]) -> list[str]:
    """Wanted tag names the forum lacks (compared case-insensitively), each once, in order."""
    have = {name.casefold() for name in available}
    missing: list[str] = []
    for name in wanted:
        if name.casefold() not in have:
            have.add(name.casefold())
            missing.append(name)
    return missing


def applied_tags(wanted: Sequence[str], available: Mapping[str, int]) -> list[int]:
    """The ids of the wanted tags the forum has (by name, case-insensitively), at most 5."""
    by_name = {name.casefold(): tag_id for name, tag_id in available.items()}
    ids: list[int] = []
    for name in wanted:
        tag_id = by_name.get(name.casefold())
        if tag_id is not None and tag_id not in ids:
            ids.append(tag_id)
    return ids[:TAGS_PER_POST]

"""Plain-text rendering of every semantic message, for the console channel and the CLI."""

from __future__ import annotations

import textwrap
from datetime import datetime
from typing import assert_never

from adapters import paper_view
from bot.types import (
    Digest,
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

WIDTH = 100
EXCERPT = 280


def short_authors(authors: tuple[str, ...], keep: int = 3) -> str:
    shown = paper_view.short_authors(authors, keep) or "unknown authors"
    return shown + (f" ({len(authors)} authors)" if len(authors) > keep else "")


def excerpt(paper: Paper, limit: int = EXCERPT) -> str:
    text = paper_view.summary(paper)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def _paper_block(rank: int | None, item: ListedPaper, *, detail: bool = True, note: str = "") -> list[str]:
    p = item.paper
    head = f"{rank:>2}. " if rank is not None else ""
    lines = [f"{head}{p.title}  [{p.id}]"]
    pad = " " * len(head)
    lines.append(f"{pad}▲ {p.upvotes} · 💬 {p.comments} · {short_authors(p.authors)}")
    if note:
        lines.append(pad + note)
    if item.matched:
        lines.append(f"{pad}matched: {', '.join(item.matched)}")
    if detail:
        lines += textwrap.wrap(excerpt(p), WIDTH, initial_indent=pad, subsequent_indent=pad)
        lines.append(pad + p.hf_url)
    return lines


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "never"


def render_text(message: Message) -> str:
    match message:
        case TextReply(text=text, is_error=is_error):
            return ("⚠️  " if is_error else "") + text
        case PaperList(heading=heading, papers=papers, note=note, more=more):
            lines = [f"== {heading} =="]
            if note:
                lines.append(note)
            for i, item in enumerate(papers, 1):
                lines += _paper_block(i, item, note=item.note)
            if more:
                lines.append(f"… and {paper_view.more_count(message)} more.")
            return "\n".join(lines)
        case PaperCard(paper=p):
            lines = [f"== {p.title} ==", f"{short_authors(p.authors, 8)}", f"▲ {p.upvotes} upvotes · 💬 {p.comments}"]
            if p.withdrawn:
                lines.append("(withdrawn from arXiv)")
            lines += textwrap.wrap(excerpt(p, 600), WIDTH)
            lines += [f"{name}: {url}" for name, url in paper_view.paper_links(p)]
            return "\n".join(lines)
        case Digest():
            return render_digest(message)
        case TopicList(topics=topics, limit=limit, personal=True):
            if not topics:
                return "You follow nothing yet. `follow <query>` adds one; its matches reach you by direct message."
            lines = [f"== Your follows ({len(topics)}/{limit}) =="]
            lines += [f"#{t.id}  {t.query}  — {t.matches_7d} papers in the last 7 days" for t in topics]
            return "\n".join(lines)
        case TopicList(topics=topics, limit=limit):
            if not topics:
                return "This channel follows no topics yet. `subscribe <query>` adds one."
            lines = [f"== Topics ({len(topics)}/{limit}) =="]
            for t in topics:
                lines.append(f"#{t.id}  {t.query}  — {t.matches_7d} papers in the last 7 days")
                if t.refinement is not None:
                    r = t.refinement
                    lines.append(f"    suggested: {r.query} ({r.reason}); `refine {t.id} {r.phrase}` applies it")
            return "\n".join(lines)
        case Status():
            return render_status(message)
        case FollowUp():
            return render_followup(message)
        case WeeklyRollup():
            return render_weekly(message)
        case ExportFile():
            return f"📎 {message.filename} — {message.summary}\n{message.content}"
        case _:
            assert_never(message)


def render_digest(d: Digest) -> str:
    day = f"{d.day:%a} {d.day.day} {d.day:%b %Y}"
    head = f"== Paperboy digest · {day} · {d.trending_count} trending, {d.topic_count} for your topics"
    head += f", {d.rising_count} rising ==" if d.rising_count else " =="
    if d.channel.dm_user:
        head = f"== Your follows · {day} · {_count(len(d.entries))} =="
    lines = [head]
    if d.papers_day:
        lines.append(f"Daily Papers of {d.papers_day:%a} {d.papers_day.day} {d.papers_day:%b}")
    if d.note:
        lines.append(d.note)
    sections = (
        (DigestReason.TRENDING, "Trending"),
        (DigestReason.TOPIC, "For your topics"),
        (DigestReason.RISING, "Rising"),
    )
    rank = 0
    for reason, title in sections:
        entries = [e for e in d.entries if e.reason is reason]
        if not entries:
            continue
        lines.append(f"-- {title} --")
        for e in entries:
            rank += 1
            note = f"rising: {paper_view.climb(e.trajectory)}" if e.trajectory is not None else ""
            feedback = paper_view.feedback_line(e)
            if feedback:
                note = f"{note} · {feedback}" if note else feedback
            lines += _paper_block(rank, ListedPaper(e.paper, e.matched), note=note)
    return "\n".join(lines)


def render_followup(f: FollowUp) -> str:
    emoji, label, url, rest = paper_view.followup_parts(f)
    shown = f.detail or label
    where = f" <{url}>" if url and url.removeprefix("https://").removeprefix("http://") != shown else ""
    return f"{emoji} {label}: {shown}{rest}{where}\n   for {f.paper.title}  [{f.paper.id}]"


def render_weekly(w: WeeklyRollup) -> str:
    lines = [f"== Your week in papers · {w.start:%a %d %b} – {w.end:%a %d %b %Y} =="]
    if not w.topics:
        lines.append("This channel follows no topics yet. `subscribe <query>` adds one.")
    for topic in w.topics:
        lines.append(f"-- {topic.query}: {topic.matched} paper{'s' if topic.matched != 1 else ''} this week --")
        lines += [f"   • {p.title}  [{p.id}] (▲ {p.upvotes})" for p in topic.top]
    if w.liked:
        lines.append("-- Most liked here this week --")
        lines += [f"   • {p.title}  [{p.id}]" for p in w.liked]
    if w.reading:
        lines.append("-- Read and presented here this week --")
        lines += [f"   • {p.title}  [{p.id}] — {line}" for p, line in w.reading]
    lines.append("The week's most upvoted papers: `top week`.")
    return "\n".join(lines)


def render_status(s: Status) -> str:
    state = "on" if s.digest_enabled else "off"
    lines = [
        "== Status ==",
        f"Digest: {state}, daily at {s.digest_time:%H:%M} {s.timezone}; next {_when(s.next_digest_at)}",
        f"Last digest: {_when(s.last_digest_at)}",
    ]
    if s.last_delivery is not None:
        d = s.last_delivery
        result = d.state.value + (f" ({d.error})" if d.error else "")
        lines.append(f"Last delivery: {d.kind.value} {d.key}: {result}")
    if s.paused_reason:
        lines.append(f"PAUSED: {s.paused_reason}")
    lines.extend(f"Note: {note}" for note in s.notes)
    latest = f"{s.latest_day:%Y-%m-%d}" if s.latest_day else "none"
    lines.append(f"Papers stored: {s.papers_stored}; latest Daily Papers day: {latest}; topics: {s.topics}")
    if s.settings is not None:
        lines.append(paper_view.following_line(s.settings))
    for label, delivery in (("Last follow-up", s.last_followup), ("Last weekly rollup", s.last_weekly)):
        if delivery is not None:
            result = delivery.state.value + (f" ({delivery.error})" if delivery.error else "")
            lines.append(f"{label}: {result} at {_when(delivery.finished_at or delivery.claimed_at)}")
    for h in s.sources:
        line = f"Source {h.source}: last success {_when(h.last_success_at)}"
        if h.last_result:
            line += f" ({h.last_result})"
        if h.last_error_at and (h.last_success_at is None or h.last_error_at > h.last_success_at):
            line += f"; last error {_when(h.last_error_at)}: {h.last_error}"
        if h.note:
            line += f"\n  {h.note}"
        lines.append(line)
    if not s.sources:
        lines.append("Sources: no fetch yet")
    return "\n".join(lines)


def _count(n: int) -> str:
    return f"{n} new paper{'' if n == 1 else 's'}"

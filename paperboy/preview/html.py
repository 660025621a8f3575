"""Slack Block Kit posts and Discord message payloads -> one self-contained HTML preview page. Pure.

The page is drawn from the very dicts the adapters send (`adapters.slack.render.render` and
`adapters.discord.render.render`), so what an admin checks is what the channel would get.

Everything that comes from a payload is untrusted (paper titles and abstracts end up in it):
markup is converted token by token, every text run goes through `html.escape` after the
platform's own entities/escapes are undone, and an `href` is written only for an absolute
http(s) URL. The page loads nothing: inline CSS, no scripts, no images from the network
(thumbnails and avatars are drawn as boxes). A URL fragment picks one column for screenshots:
`preview.html#slack` or `preview.html#discord` (CSS `:target`, no JavaScript).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from adapters.discord.render import DiscordPost
from adapters.slack.render import SlackPost
from bot.types import Digest

BOT_NAME = "Paperboy"

# ---------------------------------------------------------------------------------------------
# Shared helpers

_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def href(url: str | None) -> str | None:
    """The attribute-escaped URL if it is an absolute http(s) URL, else None (no `javascript:`, no `data:`)."""
    if not url:
        return None
    url = url.strip()
    if any(c in url for c in "\x00\t\r\n <>\"'`"):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return _esc(url)


def _anchor(url: str | None, label_html: str) -> str:
    checked = href(url)
    if checked is None:
        return label_html
    return f'<a href="{checked}" rel="noopener noreferrer nofollow" target="_blank">{label_html}</a>'


class _Stash:
    """HTML fragments parked behind NUL placeholders while the surrounding text is escaped and formatted.

    NUL never survives into the text being formatted (it is stripped first), so paper text cannot forge one.
    """

    def __init__(self) -> None:
        self.parts: list[str] = []

    def put(self, fragment: str) -> str:
        self.parts.append(fragment)
        return f"\x00{len(self.parts) - 1}\x00"

    def restore(self, text: str) -> str:
        # Restored fragments may themselves hold placeholders (a formatted link label); resolve until stable.
        for _ in range(4):
            new = _PLACEHOLDER.sub(lambda m: self.parts[int(m.group(1))], text)
            if new == text:
                break
            text = new
        return text


def _inline(text: str, rules: Sequence[tuple[re.Pattern[str], str]]) -> str:
    """Apply formatting rules to already-escaped text: each rule wraps its group 1 in a tag."""
    for pattern, tag in rules:
        text = pattern.sub(lambda m, t=tag: f"<{t}>{m.group(1)}</{t}>", text)  # type: ignore[misc]
    return text


def _wrap(marker: str, *, word: bool) -> re.Pattern[str]:
    m = re.escape(marker)
    if word:
        # Slack: *bold* must start after a non-word character and end before one.
        return re.compile(rf"(?<![\w*_~]){m}(?=\S)([^\n]*?\S){m}(?![\w*_~])")
    return re.compile(rf"{m}(?=\S)([^\n]*?\S){m}")


# ---------------------------------------------------------------------------------------------
# Slack mrkdwn

_SLACK_LINK = re.compile(r"<([^<>\n]+)>")
_SLACK_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"`([^`\n]+)`"), "code"),
    (_wrap("*", word=True), "b"),
    (_wrap("_", word=True), "i"),
    (_wrap("~", word=True), "s"),
)


def _slack_unescape(text: str) -> str:
    """Undo Slack's three entities only; anything else (`&quot;`, `&#60;`) stays literal as Slack shows it."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mrkdwn_html(text: str) -> str:
    """Slack mrkdwn -> safe HTML: `<url|label>` links, *bold*, _italic_, ~strike~, `code`, `>` quotes."""
    lines_out: list[str] = []
    quote: list[str] = []

    def flush_quote() -> None:
        if quote:
            lines_out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
            quote.clear()

    for line in text.replace("\x00", "").split("\n"):
        if line.startswith("&gt; ") or line == "&gt;" or line.startswith("> "):
            quote.append(_mrkdwn_line(line.split(" ", 1)[1] if " " in line else ""))
            continue
        flush_quote()
        lines_out.append(_mrkdwn_line(line))
    flush_quote()
    out = ""
    for i, piece in enumerate(lines_out):
        if i and not piece.startswith("<blockquote>") and not lines_out[i - 1].startswith("<blockquote>"):
            out += "<br>"
        out += piece
    return out


def _mrkdwn_line(line: str) -> str:
    stash = _Stash()

    def link(m: re.Match[str]) -> str:
        target, _, label = m.group(1).partition("|")
        target = _slack_unescape(target)
        if target[:1] in "@#!":
            # A mention or special command: shown as text, the way an unresolved one reads.
            return stash.put(f'<span class="mention">{_esc(_slack_unescape(label or target))}</span>')
        shown = _slack_unescape(label) if label else target
        return stash.put(_anchor(target, _esc(shown)))

    text = _SLACK_LINK.sub(link, line)
    text = _esc(_slack_unescape(text))
    return stash.restore(_inline(text, _SLACK_RULES))


def _slack_text(obj: dict[str, Any] | None) -> str:
    if not obj:
        return ""
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn_html(text)
    return _esc(text).replace("\n", "<br>")


def _slack_button(element: dict[str, Any]) -> str:
    label = _esc(str((element.get("text") or {}).get("text", "")))
    style = element.get("style")
    cls = "sl-btn" + (f" sl-btn-{style}" if style in ("primary", "danger") else "")
    inner = f'<span class="{cls}">{label}</span>'
    return _anchor(element.get("url"), inner) if element.get("url") else inner


def _slack_element(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        return _slack_button(element)
    if kind == "image":
        return f'<span class="sl-img" title="{_esc(str(element.get("alt_text", "")))}"></span>'
    if kind in ("mrkdwn", "plain_text"):
        return _slack_text(element)
    return f'<span class="unknown">[{_esc(str(kind))}]</span>'


def slack_block_html(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "header":
        return f'<div class="sl-header">{_slack_text(block.get("text"))}</div>'
    if kind == "divider":
        return '<hr class="sl-divider">'
    if kind == "context":
        parts = "".join(f"<span>{_slack_element(e)}</span>" for e in block.get("elements", []))
        return f'<div class="sl-context">{parts}</div>'
    if kind == "actions":
        buttons = "".join(_slack_element(e) for e in block.get("elements", []))
        return f'<div class="sl-actions">{buttons}</div>'
    if kind == "section":
        body = f'<div class="sl-text">{_slack_text(block.get("text"))}</div>' if block.get("text") else ""
        fields = block.get("fields") or []
        if fields:
            cells = "".join(f'<div class="sl-field">{_slack_text(f)}</div>' for f in fields)
            body += f'<div class="sl-fields">{cells}</div>'
        accessory = block.get("accessory")
        side = f'<div class="sl-accessory">{_slack_element(accessory)}</div>' if accessory else ""
        return f'<div class="sl-section"><div class="sl-main">{body}</div>{side}</div>'
    return f'<div class="unknown">[{_esc(str(kind))} block]</div>'


def _slack_message(post: SlackPost, time_label: str) -> str:
    if post.blocks:
        body = "".join(slack_block_html(b) for b in post.blocks)
    else:
        body = f'<div class="sl-text">{mrkdwn_html(post.text)}</div>'
    return (
        '<div class="sl-msg"><div class="avatar sl-avatar">P</div><div class="sl-body">'
        f'<div class="sl-meta"><b>{BOT_NAME}</b><span class="app-tag">APP</span>'
        f'<span class="time">{_esc(time_label)}</span></div>{body}</div></div>'
    )


def slack_html(posts: Sequence[SlackPost], *, time_label: str = "9:00 AM") -> str:
    """A Slack channel message and its thread (the posts marked `thread`), as Slack shows them."""
    if not posts:
        return '<div class="empty">Nothing would be posted.</div>'
    out = [_slack_message(posts[0], time_label)]
    replies = [p for p in posts[1:] if p.thread]
    loose = [p for p in posts[1:] if not p.thread]
    if replies:
        n = len(replies)
        out.append(
            f'<div class="sl-thread"><div class="sl-replies">{n} repl{"y" if n == 1 else "ies"}</div>'
            + "".join(_slack_message(p, time_label) for p in replies)
            + "</div>"
        )
    out.extend(_slack_message(p, time_label) for p in loose)
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Discord markdown

_MD_LINK = re.compile(r"\[((?:\\.|[^\]\\\n])*)\]\(\s*<?([^()\s<>]+)>?\s*\)")
_MD_ESCAPE = re.compile(r"\\([^\w\s])")
_DISCORD_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"`([^`\n]+)`"), "code"),
    (_wrap("**", word=False), "b"),
    (_wrap("__", word=False), "u"),
    (_wrap("~~", word=False), "s"),
    (_wrap("*", word=False), "i"),
    (_wrap("_", word=True), "i"),
    (_wrap("||", word=False), "span class=spoiler"),
)


def _md_inline(text: str, stash: _Stash) -> str:
    # Backslash escapes first: `\*` is a literal star, kept away from the formatting rules.
    text = _MD_ESCAPE.sub(lambda m: stash.put(_esc(m.group(1))), text)
    text = _esc(text)
    for pattern, tag in _DISCORD_RULES:
        name = tag.split(" ")[0]
        opening = tag.replace("class=spoiler", 'class="spoiler"')
        text = pattern.sub(lambda m, o=opening, n=name: f"<{o}>{m.group(1)}</{n}>", text)  # type: ignore[misc]
    return text


def markdown_html(text: str) -> str:
    """Discord markdown -> safe HTML: [label](url), **bold**, *italic*, __underline__, ~~strike~~, `code`,
    `> ` quotes and `-# ` subtext lines. Text between markup is always escaped."""
    out: list[str] = []
    for raw in text.replace("\x00", "").split("\n"):
        stash = _Stash()
        line = raw
        wrapper = ("", "")
        if line.startswith("-# "):
            line, wrapper = line[3:], ('<span class="subtext">', "</span>")
        elif line.startswith("> "):
            line, wrapper = line[2:], ('<span class="dc-quote">', "</span>")

        def link(m: re.Match[str], stash: _Stash = stash) -> str:
            label = _md_inline(m.group(1), stash)
            return stash.put(_anchor(m.group(2), label))

        line = _MD_LINK.sub(link, line)
        out.append(wrapper[0] + stash.restore(_md_inline(line, stash)) + wrapper[1])
    return "<br>".join(out)


_BUTTON_STYLES = {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link"}


def _discord_buttons(rows: Sequence[dict[str, Any]]) -> str:
    out = []
    for row in rows:
        buttons = []
        for b in row.get("components", []):
            style = _BUTTON_STYLES.get(int(b.get("style", 2)), "secondary")
            inner = f'<span class="dc-btn dc-btn-{style}">{_esc(str(b.get("label", "")))}</span>'
            buttons.append(_anchor(b.get("url"), inner) if style == "link" else inner)
        out.append(f'<div class="dc-row">{"".join(buttons)}</div>')
    return "".join(out)


def discord_embed_html(embed: dict[str, Any]) -> str:
    colour = embed.get("color")
    bar = f"#{int(colour):06x}" if isinstance(colour, int) and 0 <= colour <= 0xFFFFFF else "#1e1f22"
    parts: list[str] = []
    author = embed.get("author") or {}
    if author.get("name"):
        parts.append(f'<div class="dc-author">{_esc(str(author["name"]))}</div>')
    if embed.get("title"):
        title = markdown_html(str(embed["title"]))
        parts.append(f'<div class="dc-title">{_anchor(embed.get("url"), title)}</div>')
    if embed.get("description"):
        parts.append(f'<div class="dc-desc">{markdown_html(str(embed["description"]))}</div>')
    fields = embed.get("fields") or []
    if fields:
        cells = []
        for f in fields:
            cls = "dc-field inline" if f.get("inline") else "dc-field"
            cells.append(
                f'<div class="{cls}"><div class="dc-fname">{markdown_html(str(f.get("name", "")))}</div>'
                f'<div class="dc-fvalue">{markdown_html(str(f.get("value", "")))}</div></div>'
            )
        parts.append(f'<div class="dc-fields">{"".join(cells)}</div>')
    footer = embed.get("footer") or {}
    if footer.get("text"):
        parts.append(f'<div class="dc-footer">{_esc(str(footer["text"]))}</div>')
    thumb = ""
    thumbnail = embed.get("thumbnail") or {}
    if href(thumbnail.get("url")):
        # Not loaded: the page makes no network requests. The box shows where Discord puts it.
        thumb = '<div class="dc-thumb" title="thumbnail (not loaded in the preview)">🖼</div>'
    return (
        f'<div class="dc-embed" style="border-left-color:{bar}">'
        f'<div class="dc-embed-main">{"".join(parts)}</div>{thumb}</div>'
    )


def _discord_message(post: DiscordPost, time_label: str, *, head: bool = True) -> str:
    body = ""
    if post.content:
        body += f'<div class="dc-content">{markdown_html(post.content)}</div>'
    body += "".join(discord_embed_html(e) for e in post.embeds)
    body += _discord_buttons(post.components)
    meta = (
        f'<div class="dc-meta"><b>{BOT_NAME}</b><span class="app-tag dc-tag">✓ APP</span>'
        f'<span class="time">Today at {_esc(time_label)}</span></div>'
        if head
        else ""
    )
    avatar = '<div class="avatar dc-avatar">P</div>' if head else '<div class="dc-gutter"></div>'
    return f'<div class="dc-msg">{avatar}<div class="dc-body">{meta}{body}</div></div>'


def discord_html(posts: Sequence[DiscordPost], *, time_label: str = "09:00") -> str:
    """Discord messages as the client shows them; follow-ups marked `thread` inside a thread box."""
    if not posts:
        return '<div class="empty">Nothing would be posted.</div>'
    out = [_discord_message(posts[0], time_label)]
    thread = [p for p in posts[1:] if p.thread]
    loose = [p for p in posts[1:] if not p.thread]
    out.extend(_discord_message(p, time_label, head=False) for p in loose)
    if thread:
        n = len(thread)
        inner = "".join(_discord_message(p, time_label, head=i == 0) for i, p in enumerate(thread))
        out.append(
            f'<div class="dc-thread"><div class="dc-thread-head">🧵 Paperboy digest · {n} '
            f"message{'s' if n != 1 else ''}</div>{inner}</div>"
        )
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# The page

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.46 "Lato","Noto Sans","Helvetica Neue",Arial,sans-serif;background:#eef0f3;color:#1d1c1d}
a{text-decoration:none}
.page-head{padding:14px 20px;background:#1d1c1d;color:#fff}
.page-head h1{margin:0 0 4px;font-size:18px}
.page-head p{margin:0;color:#d1d2d3;font-size:13px}
.page-head code{background:#333;padding:1px 5px;border-radius:3px;color:#fff}
.columns{display:flex;gap:16px;padding:16px;align-items:flex-start}
.column{flex:1 1 0;min-width:0;border-radius:8px;overflow:hidden;box-shadow:0 1px 4px rgba(0,0,0,.15)}
body:has(.column:target) .column:not(:target){display:none}
body:has(.column:target) .page-head{display:none}
body:has(.column:target) .columns{padding:0}
body:has(.column:target) .column{border-radius:0;box-shadow:none}
.chrome{padding:10px 16px;font-weight:700;font-size:15px;display:flex;gap:8px;align-items:center}
.chrome small{font-weight:400;opacity:.7}
.avatar{flex:0 0 auto;display:flex;align-items:center;justify-content:center;font-weight:900;color:#1d1c1d;
 background:#ffd21e;font-size:18px}
.time{font-size:12px;margin-left:8px}
.empty{padding:16px;font-style:italic}
/* Slack */
.slack{background:#fff;color:#1d1c1d}
.slack .chrome{border-bottom:1px solid #e2e2e2;background:#fff}
.slack a{color:#1264a3}
.sl-msg{display:flex;gap:8px;padding:8px 20px}
.sl-avatar{width:36px;height:36px;border-radius:6px}
.sl-body{flex:1;min-width:0}
.sl-meta b{font-weight:900}
.app-tag{font-size:10px;font-weight:700;background:#e8e8e8;color:#616061;padding:1px 3px;border-radius:2px;
 margin-left:6px;vertical-align:1px}
.slack .time{color:#616061}
.sl-header{font-size:18px;font-weight:900;margin:4px 0 6px}
.sl-context{font-size:12px;color:#616061;margin:2px 0 6px}
.sl-context span+span{margin-left:6px}
.sl-section{display:flex;gap:12px;margin:6px 0 10px}
.sl-main{flex:1;min-width:0;overflow-wrap:anywhere}
.sl-text blockquote{margin:2px 0;padding-left:10px;border-left:4px solid #dddddd;color:#1d1c1d}
.sl-text code{font:12px monospace;background:#f6f6f6;border:1px solid #e1e1e1;border-radius:3px;padding:0 2px;
 color:#e01e5a}
.sl-fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px;margin-top:4px}
.sl-btn{display:inline-block;border:1px solid #cfcfcf;border-radius:4px;padding:3px 11px;font-size:13px;
 font-weight:700;color:#1d1c1d;background:#fff;white-space:nowrap}
.sl-btn-primary{background:#007a5a;color:#fff;border-color:#007a5a}
.sl-btn-danger{color:#e01e5a}
.sl-actions{display:flex;gap:8px;margin:6px 0}
.sl-divider{border:0;border-top:1px solid #e2e2e2;margin:8px 0}
.sl-img{display:inline-block;width:14px;height:14px;border-radius:3px;background:#ccc;vertical-align:-2px}
.sl-thread{margin:0 20px 10px 64px;border-left:2px solid #e2e2e2}
.sl-replies{font-size:13px;font-weight:700;color:#1264a3;padding:2px 12px 4px}
.sl-thread .sl-msg{padding:6px 12px}
.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}
/* Discord */
.discord{background:#313338;color:#dbdee1;font-family:"gg sans","Noto Sans","Helvetica Neue",Arial,sans-serif}
.discord .chrome{background:#313338;color:#f2f3f5;border-bottom:1px solid #1f2023}
.discord a{color:#00a8fc}
.dc-msg{display:flex;gap:14px;padding:6px 16px}
.dc-avatar{width:40px;height:40px;border-radius:50%}
.dc-gutter{width:40px;flex:0 0 auto}
.dc-body{flex:1;min-width:0}
.dc-meta b{color:#f2f3f5;font-weight:600}
.dc-tag{background:#5865f2;color:#fff}
.discord .time{color:#949ba4}
.dc-content{overflow-wrap:anywhere}
.subtext{font-size:12px;color:#949ba4}
.dc-quote{border-left:4px solid #4e5058;padding-left:8px;display:inline-block}
.dc-embed{display:flex;gap:12px;max-width:520px;background:#2b2d31;border-left:4px solid #1e1f22;border-radius:4px;
 padding:8px 16px 12px 12px;margin:6px 0 4px}
.dc-embed-main{flex:1;min-width:0;overflow-wrap:anywhere}
.dc-author{font-size:13px;font-weight:600;color:#f2f3f5;margin-top:6px}
.dc-title{font-weight:600;margin-top:6px;color:#f2f3f5}
.dc-desc{font-size:14px;margin-top:6px}
.dc-fields{display:flex;flex-wrap:wrap;gap:6px 16px;margin-top:8px}
.dc-field{flex:1 1 100%;font-size:14px}
.dc-field.inline{flex:1 1 30%}
.dc-fname{font-weight:600;color:#f2f3f5}
.dc-footer{font-size:12px;color:#b5bac1;margin-top:8px}
.dc-thumb{flex:0 0 80px;height:80px;border-radius:4px;background:#3f4147;display:flex;align-items:center;
 justify-content:center;font-size:28px;margin-top:8px}
.dc-row{display:flex;flex-wrap:wrap;gap:8px;margin:4px 0}
.dc-btn{display:inline-block;border-radius:3px;padding:2px 16px;font-size:14px;font-weight:500;color:#fff;
 line-height:28px;white-space:nowrap}
.dc-btn-primary{background:#5865f2}.dc-btn-secondary{background:#4e5058}.dc-btn-success{background:#248046}
.dc-btn-danger{background:#da373c}.dc-btn-link{background:#4e5058}
.discord code{font:13px monospace;background:#1e1f22;border-radius:3px;padding:0 3px}
.spoiler{background:#1e1f22;color:#1e1f22}
.dc-thread{margin:4px 16px 12px 70px;border:1px solid #1f2023;border-radius:8px;background:#2b2d31}
.dc-thread-head{font-size:14px;font-weight:600;color:#f2f3f5;padding:8px 12px;border-bottom:1px solid #1f2023}
.dc-thread .dc-msg{padding:6px 12px}
"""


def page_html(
    digest: Digest,
    slack_posts: Sequence[SlackPost],
    discord_posts: Sequence[DiscordPost],
    *,
    title: str,
    channel_label: str | None = None,
    topics: Sequence[str] = (),
    time_label: str = "09:00",
) -> str:
    """One self-contained page: a header (channel, day, paper count) and the digest as Slack and as Discord."""
    n = len(digest.entries)
    counts = f"{n} paper{'s' if n != 1 else ''}"
    if n:
        counts += f" ({digest.trending_count} trending, {digest.topic_count} from topics)"
    day = f"{digest.day:%a %d %b %Y}"
    if digest.papers_day is not None:
        day += f", Daily Papers of {digest.papers_day:%a %d %b %Y}"
    channel = channel_label or digest.channel.key
    lines = [f"Channel <code>{_esc(channel)}</code> · digest for {_esc(day)} · {_esc(counts)}"]
    if topics:
        lines.append("Topics: " + ", ".join(f"<code>{_esc(t)}</code>" for t in topics))
    if digest.note:
        lines.append(_esc(digest.note))
    head = "".join(f"<p>{line}</p>" for line in lines)
    column: Callable[[str, str, str, str], str] = lambda cid, name, chrome, body: (  # noqa: E731
        f'<section class="column {cid}" id="{cid}" data-platform="{cid}">'
        f'<div class="chrome">{chrome}<small>{_esc(name)}</small></div>{body}</section>'
    )
    slack = column("slack", "as Slack shows it", "# papers", slack_html(slack_posts, time_label=time_label))
    discord = column("discord", "as Discord shows it", "# papers", discord_html(discord_posts, time_label=time_label))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>"
        f'<header class="page-head"><h1>{_esc(title)}</h1>{head}</header>'
        f'<main class="columns">{slack}{discord}</main></body></html>\n'
    )


__all__ = [
    "discord_embed_html",
    "discord_html",
    "href",
    "markdown_html",
    "mrkdwn_html",
    "page_html",
    "slack_block_html",
    "slack_html",
]

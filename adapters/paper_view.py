"""What a paper shows on every surface: its short author line, its summary, its links.

The renderers decide how it looks (Block Kit, embeds, plain text) and how it is escaped; what is shown
is decided once, here, so Slack, Discord, the console and the preview never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.types import (
    WEEKDAYS,
    ArtifactKind,
    ChannelRef,
    ChannelSettings,
    Digest,
    DigestEntry,
    FollowUp,
    Paper,
    PaperList,
    Platform,
    Trajectory,
)

_ANY_CHANNEL = ChannelRef(Platform.CONSOLE, "-", "-")
_ANY_DM = ChannelRef.dm(Platform.CONSOLE, "any", "any")


def short_authors(authors: Sequence[str], keep: int = 3) -> str:
    """ "A, B, C et al." (whitespace-normalised names), or "" when there are none."""
    # Some papers list hundreds of authors; normalise only the ones shown, plus one to know "et al.".
    names: list[str] = []
    for author in authors:
        name = " ".join(author.split())
        if name:
            names.append(name)
            if len(names) > keep:
                return ", ".join(names[:keep]) + " et al."
    return ", ".join(names)


def summary(paper: Paper) -> str:
    """The AI summary when there is one (short, written for skimming), else the abstract."""
    return " ".join((paper.ai_summary or paper.abstract or "").split())


def paper_links(paper: Paper) -> list[tuple[str, str]]:
    """(label, URL) pairs, http(s) only: paper text is untrusted, so no other scheme is ever linked."""
    found = [
        ("Hugging Face", paper.hf_url),
        ("arXiv", paper.arxiv_url),
        ("PDF", paper.pdf_url),
        ("Code", paper.github_repo),
        ("Project page", paper.project_page),
    ]
    return [(label, url) for label, url in found if url and url.lower().startswith(("https://", "http://"))]


def as_shown(digest: Digest) -> Digest:
    """The digest without what its posts do not show (the channel) or carry apart (the delivery id).

    Channels with the same trending papers and popular topics get equal digests; renderers memoise on
    this, so a fan-out renders each distinct digest once and adds the delivery id afterwards.
    """
    # A person's DM reads as their follows: it keeps "a DM" (not whose), so DMs still share renders.
    channel = _ANY_DM if digest.channel.dm_user else _ANY_CHANNEL
    return replace(digest, channel=channel, delivery_id=None)


def short_count(n: int) -> str:
    """1234 -> "1.2k", 15300 -> "15k": star counts as people read them."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{round(n / 1000)}k"


def climb(trajectory: Trajectory) -> str:
    """ "▲ 12 → 148 since Tue 25 Nov": how a rising paper climbed."""
    since = trajectory.since
    return f"▲ {trajectory.from_upvotes} → {trajectory.to_upvotes} since {since:%a} {since.day} {since:%b}"


_FOLLOWUP_LABELS = {
    ArtifactKind.CODE: ("💻", "Code released"),
    ArtifactKind.MODEL: ("🤗", "Model"),
    ArtifactKind.DATASET: ("📊", "Dataset"),
    ArtifactKind.SPACE: ("🚀", "Space"),
}
_HUB_PATHS = {ArtifactKind.MODEL: "", ArtifactKind.DATASET: "datasets/", ArtifactKind.SPACE: "spaces/"}


def feedback_line(entry: DigestEntry) -> str:
    """What this channel's votes did to the entry and, when the channel shows them, its votes here ("")."""
    parts = []
    if entry.learned is not None:
        parts.append(entry.learned.line)
    if entry.votes is not None:
        up, down = entry.votes
        parts.append(f"votes here: 👍 {up} · 👎 {down}")
    return " · ".join(parts)


def more_count(message: PaperList) -> str:
    """How many more papers matched, as words: "37", or "about 600,000" when it is an estimate.

    An estimate keeps two significant digits: more would claim a precision it does not have.
    """
    if not message.more_estimated:
        return str(message.more)
    digits = max(0, len(str(message.more)) - 2)
    return f"about {round(message.more, -digits):,}"


def followup_parts(message: FollowUp) -> tuple[str, str, str | None, str]:
    """(emoji, label, link of what appeared or None, the rest: "· ★ 1.2k", "· 3 more") for a follow-up."""
    emoji, label = _FOLLOWUP_LABELS[message.kind]
    if message.kind is ArtifactKind.CODE:
        url = message.paper.github_repo
        rest = f" · ★ {short_count(message.stars)}" if message.stars else ""
    else:
        url = f"https://huggingface.co/{_HUB_PATHS[message.kind]}{message.detail}" if message.detail else None
        rest = f" · {message.more} more" if message.more else ""
    if url is not None and not url.lower().startswith(("https://", "http://")):
        url = None
    return emoji, label, url, rest


def following_line(settings: ChannelSettings) -> str:
    """ "Follow-ups on · rising on · weekly rollup on Mondays": what the channel follows up on."""

    def onoff(flag: bool) -> str:
        return "on" if flag else "off"

    weekly = f"on {WEEKDAYS[settings.weekly_day].capitalize()}s" if settings.weekly_day is not None else "off"
    return f"Follow-ups {onoff(settings.followups)} · rising {onoff(settings.rising)} · weekly rollup {weekly}"

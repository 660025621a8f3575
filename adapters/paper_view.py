"""What a paper shows on every surface: its short author line, its summary, its links.

The renderers decide how it looks (Block Kit, embeds, plain text) and how it is escaped; what is shown
is decided once, here, so Slack, Discord, the console and the preview never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.types import ChannelRef, Digest, Paper, Platform

_ANY_CHANNEL = ChannelRef(Platform.CONSOLE, "-", "-")


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
    return replace(digest, channel=_ANY_CHANNEL, delivery_id=None)

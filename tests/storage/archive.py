"""Real papers for storage tests, parsed from the shared Hugging Face Daily Papers archive."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from bot.types import Paper, Source
from tests.shared_data import ARCHIVE

NOVEMBER_2025 = ARCHIVE / "daily_papers_2025-11.json"


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def paper_from_entry(entry: dict[str, Any]) -> Paper:
    """One `daily_papers` entry -> Paper (the parsing a source module does, kept minimal here)."""
    p = entry["paper"]
    featured = _when(p.get("submittedOnDailyAt"))
    org = p.get("organization") or entry.get("organization") or {}
    return Paper(
        id=p["id"],
        title=_clean(p.get("title") or entry.get("title")),
        abstract=_clean(p.get("summary") or entry.get("summary")),
        authors=tuple(_clean(a["name"]) for a in p.get("authors", []) if not a.get("hidden")),
        published_at=_when(p.get("publishedAt")),
        featured_days=(featured.date(),) if featured else (),
        upvotes=int(p.get("upvotes") or 0),
        comments=int(entry.get("numComments") or 0),
        ai_summary=_clean(p.get("ai_summary")) or None,
        ai_keywords=tuple(p.get("ai_keywords") or ()),
        github_repo=p.get("githubRepo") or None,
        github_stars=p.get("githubStars"),
        project_page=p.get("projectPage") or None,
        thumbnail=entry.get("thumbnail") or None,
        organization=org.get("fullname") or org.get("name") or None,
        sources=(Source.HF,),
    )


@cache
def load(path: Path = NOVEMBER_2025) -> tuple[Paper, ...]:
    return tuple(paper_from_entry(e) for e in json.loads(path.read_text(encoding="utf-8")))


def sample(n: int = 8) -> list[Paper]:
    """The first `n` papers of November 2025 (distinct ids)."""
    seen: dict[str, Paper] = {}
    for paper in load():
        seen.setdefault(paper.id, paper)
        if len(seen) == n:
            break
    return list(seen.values())

"""Parse raw Hugging Face paper records into `Paper`.

One function, `parse_daily_paper`, accepts the three shapes the Hub returns for a paper:

- a `GET /api/daily_papers` entry: an outer object (`title`, `summary`, `thumbnail`, `numComments`,
  `organization`, ...) around an inner `paper` object (`id`, `authors`, `publishedAt`,
  `submittedOnDailyAt`, `upvotes`, `ai_summary`, `ai_keywords`, `githubRepo`, `githubStars`,
  `projectPage`, `organization`, `withdrawnAt`, ...);
- a `GET /api/papers/search` result: the same outer-and-inner shape;
- a `GET /api/papers/{id}` answer: the bare inner paper object.

Why not `huggingface_hub.PaperInfo`: `PaperInfo(**record)` reads `ai_summary`, `ai_keywords`,
`githubRepo`, `githubStars`, `projectPage` and `withdrawnAt` from the *outer* object only, so for
daily_papers entries (where they live in the inner `paper`) they are lost, and it computes
`upvotes = paper.pop("upvotes") or ...`, which turns a real 0 into None. The HF source therefore
uses huggingface_hub's HTTP machinery (session, headers, error mapping) but parses the raw JSON here.

Validation is done with frozen pydantic models that ignore unknown fields, so new fields the Hub adds
never break ingest, while a missing id or a wrongly typed field raises `SourceError` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.errors import SourceError
from bot.types import Paper, Source, canonical_arxiv_id

__all__ = ["normalise_whitespace", "parse_daily_paper", "safe_link"]

_WHITESPACE = re.compile(r"\s+")


def normalise_whitespace(text: str) -> str:
    """Collapse hard line wraps, tabs and runs of spaces into single spaces and trim the ends."""
    return _WHITESPACE.sub(" ", text).strip()


def safe_link(url: str | None) -> str | None:
    """Return `url` trimmed if it is an absolute http(s) URL, else None (drops `javascript:` and the like)."""
    if not url:
        return None
    candidate = url.strip()
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in candidate):
        return None
    return candidate


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _Author(_Model):
    name: str
    hidden: bool = False


class _Organization(_Model):
    name: str | None = None
    fullname: str | None = None


class _Linked(_Model):
    """A model, dataset or Space the Hub links to a paper (only its repository id is used)."""

    id: str | None = None


LINKED_SHOWN = 5
"""How many linked repositories of each kind are kept by name (the totals are kept too)."""


def _linked(items: list[_Linked] | None, total: int | None) -> tuple[tuple[str, ...], int]:
    names = tuple(n for n in (normalise_whitespace(i.id or "") for i in items or ()) if n)
    count = max(total or 0, len(names))
    return names[:LINKED_SHOWN], count


class _InnerPaper(_Model):
    id: str
    title: str | None = None
    summary: str | None = None
    authors: list[_Author] | None = None
    publishedAt: datetime | None = None
    submittedOnDailyAt: datetime | None = None
    upvotes: int | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    githubRepo: str | None = None
    githubStars: int | None = None
    projectPage: str | None = None
    organization: _Organization | None = None
    withdrawnAt: datetime | None = None
    # Present only when a bare /api/papers/{id} answer carries them.
    numComments: int | None = None
    thumbnail: str | None = None
    linkedModels: list[_Linked] | None = None
    linkedDatasets: list[_Linked] | None = None
    linkedSpaces: list[_Linked] | None = None
    numTotalModels: int | None = None
    numTotalDatasets: int | None = None
    numTotalSpaces: int | None = None


class _Outer(_Model):
    paper: _InnerPaper
    title: str | None = None
    summary: str | None = None
    thumbnail: str | None = None
    numComments: int | None = None
    organization: _Organization | None = None


def _describe(exc: ValidationError) -> str:
    # Only locations and messages: pydantic's default text echoes the offending input.
    problems = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "record"
        problems.append(f"{loc}: {err.get('msg', 'invalid')}")
    more = exc.error_count() - len(problems)
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _featured_day(value: datetime | None) -> tuple[date, ...]:
    # submittedOnDailyAt is midnight UTC of the Daily Papers day it was featured on.
    moment = _utc(value)
    return (moment.date(),) if moment is not None else ()


def _org_name(org: _Organization | None) -> str | None:
    if org is None:
        return None
    for candidate in (org.fullname, org.name):
        if candidate and candidate.strip():
            return normalise_whitespace(candidate)
    return None


def _optional_text(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = normalise_whitespace(text)
    return cleaned or None


def parse_daily_paper(record: Mapping[str, Any]) -> Paper:
    """Turn one raw Hub paper record (daily_papers entry, search result or bare paper) into a `Paper`.

    Raises:
        SourceError: the record is not an object, lacks an arXiv id or title, or has a wrongly typed field.
            The message names the field; it never contains the record's values beyond the paper id.
    """
    if not isinstance(record, Mapping):
        raise SourceError(f"paper record is a {type(record).__name__}, not an object")
    try:
        if isinstance(record.get("paper"), Mapping):
            outer = _Outer.model_validate(record)
        else:
            outer = _Outer(paper=_InnerPaper.model_validate(record))
    except ValidationError as exc:
        raise SourceError(f"malformed paper record: {_describe(exc)}") from None

    inner = outer.paper
    try:
        paper_id = canonical_arxiv_id(inner.id)
    except ValueError as exc:
        raise SourceError(f"malformed paper record: {exc}") from None

    title = normalise_whitespace(inner.title or outer.title or "")
    if not title:
        raise SourceError(f"malformed paper record {paper_id}: no title")
    upvotes = inner.upvotes or 0
    comments = outer.numComments if outer.numComments is not None else inner.numComments
    stars = inner.githubStars
    if upvotes < 0 or (comments is not None and comments < 0) or (stars is not None and stars < 0):
        raise SourceError(f"malformed paper record {paper_id}: negative count")

    keywords = tuple(k for k in (normalise_whitespace(k) for k in inner.ai_keywords or ()) if k)
    models, models_total = _linked(inner.linkedModels, inner.numTotalModels)
    datasets, datasets_total = _linked(inner.linkedDatasets, inner.numTotalDatasets)
    spaces, spaces_total = _linked(inner.linkedSpaces, inner.numTotalSpaces)
    totals = (inner.numTotalModels, inner.numTotalDatasets, inner.numTotalSpaces)
    if any(t is not None and t < 0 for t in totals):
        raise SourceError(f"malformed paper record {paper_id}: negative count")
    authors = tuple(n for n in (normalise_whitespace(a.name) for a in inner.authors or ()) if n)
    return Paper(
        id=paper_id,
        title=title,
        abstract=normalise_whitespace(inner.summary or outer.summary or ""),
        authors=authors,
        published_at=_utc(inner.publishedAt),
        featured_days=_featured_day(inner.submittedOnDailyAt),
        upvotes=upvotes,
        comments=comments or 0,
        ai_summary=_optional_text(inner.ai_summary),
        ai_keywords=keywords,
        github_repo=safe_link(inner.githubRepo),
        github_stars=stars,
        project_page=safe_link(inner.projectPage),
        thumbnail=safe_link(outer.thumbnail or inner.thumbnail),
        organization=_org_name(inner.organization) or _org_name(outer.organization),
        withdrawn=inner.withdrawnAt is not None,
        sources=(Source.HF,),
        models=models,
        models_total=models_total,
        datasets=datasets,
        datasets_total=datasets_total,
        spaces=spaces,
        spaces_total=spaces_total,
    )

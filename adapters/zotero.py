"""A channel's library pushed to a Zotero group library (`paperboy zotero link`), through pyzotero.

Idempotent: every item Paperboy creates carries the tag `paperboy` and its arXiv id in `archiveID`
("arXiv:2402.17764"), the field Zotero itself fills for arXiv preprints; a push first lists the group's
`paperboy` items and creates only the papers it lacks, at most 50 per request (the API's limit), each
request with its own write token so that a retried request is not applied twice. Nothing is ever
changed or deleted in the group. pyzotero is synchronous: callers run `push_library` in a thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyzotero import zotero

from bot.exports import doi
from bot.types import Paper

logger = logging.getLogger(__name__)

TAG = "paperboy"
BATCH = 50
ZOTERO_API = "https://api.zotero.org"


def archive_id(paper: Paper) -> str:
    return f"arXiv:{paper.id}"


def _creator(name: str) -> dict[str, str]:
    name = " ".join(name.split())
    first, _, last = name.rpartition(" ")
    if first:
        return {"creatorType": "author", "firstName": first, "lastName": last}
    return {"creatorType": "author", "name": name}


def zotero_item(paper: Paper) -> dict[str, Any]:
    """`paper` as a new Zotero `preprint` item (the fields of Zotero's own template for one)."""
    published = paper.published_at
    return {
        "itemType": "preprint",
        "title": " ".join(paper.title.split()),
        "creators": [_creator(a) for a in paper.authors if a.strip()],
        "abstractNote": " ".join(paper.abstract.split()),
        "repository": "arXiv",
        "archiveID": archive_id(paper),
        "date": published.date().isoformat() if published is not None else "",
        "DOI": doi(paper),
        "url": paper.arxiv_url,
        "tags": [{"tag": TAG}],
        "collections": [],
        "relations": {},
    }


@dataclass(slots=True)
class PushResult:
    created: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        text = f"{len(self.created)} added, {len(self.already)} already in the group"
        return text + (f", {len(self.failed)} refused by Zotero" if self.failed else "")


def client(group_id: str, api_key: str, *, endpoint: str = ZOTERO_API) -> zotero.Zotero:
    zot = zotero.Zotero(group_id, "group", api_key)
    zot.endpoint = endpoint.rstrip("/")
    return zot


def push_library(zot: zotero.Zotero, papers: Sequence[Paper]) -> PushResult:
    """Create the papers the group lacks (judged by `archiveID` among its `paperboy` items)."""
    existing = zot.everything(zot.items(tag=TAG))
    known = {str((item.get("data") or {}).get("archiveID", "")) for item in existing}
    result = PushResult()
    missing: list[Paper] = []
    for paper in papers:
        if archive_id(paper) in known:
            result.already.append(paper.id)
        else:
            missing.append(paper)
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        answer = zot.create_items([zotero_item(p) for p in batch])
        failed = answer.get("failed") or {}
        for position, paper in enumerate(batch):
            if str(position) in failed:
                logger.warning("zotero refused %s: %s", paper.id, failed[str(position)].get("message"))
                result.failed.append(paper.id)
            else:
                result.created.append(paper.id)
    return result

"""Where the shared real data lives: `../shared/data` beside the repository (CI lays it out the same way).

A missing folder is an error, not a skip: tests that would silently stop testing real data must not pass.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from bot.sources.files import iter_daily_papers_files
from bot.types import Paper

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERBOY_SHARED_DIR") or REPO.parent / "shared")
DATA = SHARED / "data"
ARCHIVE = DATA / "hf-daily-papers"
SAMPLES = DATA / "samples"
ARXIV_RESPONSE = DATA / "arxiv" / "arxiv_response.xml"

if not ARCHIVE.is_dir():
    raise RuntimeError(f"the shared real data is missing at {DATA}; set PAPERBOY_SHARED_DIR to its folder")


def archive_papers(name: str, limit: int | None = None) -> list[Paper]:
    """Real papers from one archive month, parsed by the bot's own file source (one per id)."""
    papers: dict[str, Paper] = {}
    for paper in iter_daily_papers_files([ARCHIVE / name]):
        papers.setdefault(paper.id, paper)
        if limit is not None and len(papers) == limit:
            break
    return list(papers.values())


@functools.cache
def all_archive_papers() -> tuple[Paper, ...]:
    """Every paper of the archive, parsed by the bot's own file source (one per id, as stored)."""
    papers: dict[str, Paper] = {}
    for paper in iter_daily_papers_files([ARCHIVE]):
        papers.setdefault(paper.id, paper)
    return tuple(papers.values())

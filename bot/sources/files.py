"""Daily Papers JSON files (archive exports, the bundled sample) as a paper source.

Each file is one JSON array of `GET /api/daily_papers` entries. A path may be a file or a folder; a
folder contributes its `*.json` files in name order. A file that is not a JSON array stops the run with
`SourceError` naming it; a malformed record inside a good file is skipped with a warning naming file and index.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.errors import SourceError
from bot.sources.records import parse_daily_paper
from bot.types import Paper

__all__ = ["count_records", "daily_papers_files", "iter_daily_papers_files"]

logger = logging.getLogger(__name__)


def daily_papers_files(paths: Sequence[Path]) -> list[Path]:
    """The JSON files `paths` name: files as given, folders expanded to their sorted `*.json`."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.json") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise SourceError(f"{path}: no such file or folder")
    return files


def _load(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: malformed JSON ({exc})") from None
    if not isinstance(data, list):
        raise SourceError(f"{path}: expected a JSON array of daily papers, got {type(data).__name__}")
    return data


def iter_daily_papers_files(paths: Sequence[Path]) -> Iterator[Paper]:
    """Yield a `Paper` per good record, file by file, in file order.

    Raises:
        SourceError: a path does not exist, or a file is unreadable, not JSON, or not a JSON array.
    """
    for path in daily_papers_files(paths):
        for index, record in enumerate(_load(path)):
            try:
                yield parse_daily_paper(record)
            except SourceError as exc:
                logger.warning("%s: skipped record %d: %s", path, index, exc)


def count_records(paths: Sequence[Path]) -> int:
    """How many records the files hold (for a progress bar's total); reads each file once."""
    return sum(len(_load(path)) for path in daily_papers_files(paths))

"""Golden files: a rendered payload compared with the one checked in (`UPDATE_GOLDEN=1` rewrites them)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest


def assert_golden(path: Path, payload: Any) -> None:
    """`payload` (JSON-able) must equal `path`'s content; a missing file fails after writing it."""
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        pytest.fail(f"golden file {path} was missing and has been written: review it, then re-run")
    assert json.loads(path.read_text()) == json.loads(text), f"regenerate with UPDATE_GOLDEN=1: {path}"


def read_bibtex(text: str) -> list[dict[str, str]]:
    """BibTeX entries as bibtexparser 1.x reads them: dicts with `ID`, `ENTRYTYPE` and lowercase fields.

    bibtexparser 1.x (pyzotero pins it below 2) skips what it cannot parse instead of failing: callers
    compare the count of entries with what they wrote.
    """
    import bibtexparser
    from bibtexparser.bparser import BibTexParser

    parser = BibTexParser(common_strings=False, ignore_nonstandard_types=False, interpolate_strings=False)
    return list(bibtexparser.loads(text, parser=parser).entries)

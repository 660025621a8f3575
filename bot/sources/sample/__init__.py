"""A small real Daily Papers snapshot shipped inside the package (see README.md for its attribution)."""

from __future__ import annotations

import tempfile
from datetime import date
from importlib.resources import files
from pathlib import Path

__all__ = ["SAMPLE_FIRST_DAY", "SAMPLE_LAST_DAY", "sample_paths"]

SAMPLE_FIRST_DAY = date(2025, 11, 17)
SAMPLE_LAST_DAY = date(2025, 11, 28)


def sample_paths() -> list[Path]:
    """The sample's JSON files, as real filesystem paths.

    An installed wheel or a source tree holds them as plain files. A zipped install (zipimport) does not,
    so they are copied once into a temporary folder that lives as long as the process.
    """
    resources = sorted((r for r in files(__name__).iterdir() if r.name.endswith(".json")), key=lambda r: r.name)
    paths: list[Path] = []
    extracted: Path | None = None
    for resource in resources:
        if isinstance(resource, Path):
            paths.append(resource)
            continue
        if extracted is None:
            extracted = Path(tempfile.mkdtemp(prefix="paperboy-sample-"))
        target = extracted / resource.name
        target.write_bytes(resource.read_bytes())
        paths.append(target)
    return paths

"""Progress of long network work (an ingest of a month is up to 50 pages; arXiv waits 3 s a page).

One bar per fetch, counting pages, with the papers so far beside it, on stderr and only when stderr is a
terminal: logs, pipes, cron and `--json` output stay clean. Sources call `page()` from their worker
thread after each page; tqdm's updates are thread-safe.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from tqdm import tqdm


class PageProgress:
    def __init__(self, what: str, *, stream: TextIO | None = None, force: bool = False) -> None:
        out = stream or sys.stderr
        self.pages = 0
        self.papers = 0
        self._bar = tqdm(desc=what, unit="page", file=out, disable=not (force or out.isatty()), leave=True)

    def page(self, papers: int) -> None:
        """One more page fetched, with `papers` papers on it."""
        self.pages += 1
        self.papers += papers
        self._bar.set_postfix_str(f"{self.papers} papers", refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> PageProgress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

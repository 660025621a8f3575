"""Several paper sources asked in turn: the Hub first, then arXiv, for a paper Paperboy has not stored.

A link shared in a channel (or `/papers save <id>`) may name a paper the Hub has never listed: arXiv
knows every arXiv paper, the Hub only those someone submitted. The first source that knows the paper
answers; a source that fails is logged and the next one asked, so a Hub outage does not stop a save.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.errors import SourceError
from bot.ports import RemotePapers
from bot.types import Paper

logger = logging.getLogger(__name__)


class FirstThatKnows:
    """A `RemotePapers` over sources in order of preference (the richest record first)."""

    def __init__(self, sources: Sequence[RemotePapers]) -> None:
        if not sources:
            raise ValueError("FirstThatKnows needs at least one source")
        self._sources = tuple(sources)

    async def paper(self, arxiv_id: str) -> Paper | None:
        """The first source's record of the paper; None when no source knows it.

        Raises the first `SourceError` only when every source failed: "not found" and "could not ask" stay
        distinct for the caller.
        """
        failures: list[SourceError] = []
        for source in self._sources:
            try:
                found = await source.paper(arxiv_id)
            except SourceError as exc:
                logger.warning("paper %s: %s failed (%s); asking the next source", arxiv_id, type(source).__name__, exc)
                failures.append(exc)
                continue
            if found is not None:
                return found
        if len(failures) == len(self._sources):
            raise failures[0]
        return None

    async def search(self, query: str, limit: int = 20) -> list[Paper]:
        """The first source's search (the Hub's): arXiv only fills in papers by id."""
        return await self._sources[0].search(query, limit)

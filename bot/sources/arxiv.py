"""New papers from the arXiv API, through the `arxiv` package.

arXiv asks for at most one request every 3 seconds per client. `arxiv.Client` enforces its
`delay_seconds` only between the pages of one client; Paperboy also spaces requests *across* calls and
across `ArxivSource` instances that share an API URL, with a process-wide pacer (a lock and a monotonic
timestamp per URL) applied to every HTTP request the package sends. The package's session has no
timeout, so the paced session also sets one. Everything blocking runs in `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

import arxiv
import requests

from bot.errors import SourceError
from bot.progress import PageProgress
from bot.sources.records import normalise_whitespace
from bot.types import Paper, Source, canonical_arxiv_id

__all__ = ["ArxivSource"]

logger = logging.getLogger(__name__)

_REQUEST_TIMEOUT = 30.0


class _Pacer:
    """One request at a time, and at least `interval` seconds from the end of one to the start of the next.

    Measuring from the end (as the `arxiv` package does) keeps the spacing as the server sees it even when
    a request is slow to connect; holding the lock through the request keeps concurrent callers in line.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: float | None = None

    @contextmanager
    def turn(self, interval: float) -> Iterator[None]:
        with self._lock:
            if self._last is not None:
                remaining = self._last + interval - time.monotonic()
                if remaining > 0:
                    time.sleep(remaining)
            try:
                yield
            finally:
                self._last = time.monotonic()


class _PacedSession(requests.Session):
    def __init__(self, pacer: _Pacer, interval: float, timeout: float, progress: PageProgress | None) -> None:
        super().__init__()
        self._pacer = pacer
        self._interval = interval
        self._timeout = timeout
        self._progress = progress
        self.last_body: bytes | None = None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self._timeout)
        with self._pacer.turn(self._interval):
            response = super().request(method, url, *args, **kwargs)
        self.last_body = response.content
        if self._progress is not None and response.ok:
            self._progress.page(response.content.count(b"<entry>") + response.content.count(b"<entry "))
        return response


class ArxivSource:
    """Recent papers in some arXiv categories, optionally narrowed by an arXiv query, newest first."""

    _pacers: ClassVar[dict[str, _Pacer]] = {}
    _pacers_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        api_url: str = "https://export.arxiv.org/api/query",
        min_interval: float = 3.0,
        page_size: int = 100,
        *,
        progress: PageProgress | None = None,
    ) -> None:
        """`progress` counts the pages (and papers) of every fetch: the CLI's bar on a terminal."""
        self._api_url = api_url
        self._progress = progress
        self._min_interval = min_interval
        self._page_size = page_size
        with self._pacers_lock:
            self._pacer = self._pacers.setdefault(api_url, _Pacer())

    async def fetch(
        self, *, categories: Sequence[str] = (), query: str | None = None, max_results: int = 100
    ) -> list[Paper]:
        """Up to `max_results` papers, newest submissions first.

        The arXiv query is `(cat:A OR cat:B) AND (query)`; either part may be absent, not both.
        """
        search_query = build_query(categories, query)
        return await asyncio.to_thread(self._fetch_sync, search_query, max_results, self._progress)

    async def paper(self, arxiv_id: str) -> Paper | None:
        """One paper by its arXiv id (the API's `id_list`), or None when arXiv does not know it.

        How Paperboy stores a paper shared in a channel that the Hub has never listed.
        """
        found = await asyncio.to_thread(self._fetch_sync, "", 1, None, (arxiv_id,))
        return next((p for p in found if p.id == arxiv_id), None)

    async def search(self, query: str, limit: int = 20) -> list[Paper]:
        """Not used: Paperboy searches what it stores; arXiv only fills in papers by id."""
        return []

    def _fetch_sync(
        self, search_query: str, max_results: int, progress: PageProgress | None, id_list: Sequence[str] = ()
    ) -> list[Paper]:
        client = arxiv.Client(
            page_size=max(1, min(self._page_size, max_results)), delay_seconds=self._min_interval, num_retries=1
        )
        client.query_url_format = self._api_url + "?{}"
        # The package owns its session; replace it so every request is paced and has a timeout.
        session = _PacedSession(self._pacer, self._min_interval, _REQUEST_TIMEOUT, progress)
        client._session = session
        search = arxiv.Search(
            query=search_query,
            id_list=list(id_list),
            max_results=max_results,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Descending,
        )
        papers: list[Paper] = []
        try:
            for result in client.results(search):
                try:
                    papers.append(paper_from_result(result))
                except SourceError as exc:
                    logger.warning("arXiv: skipped entry %s: %s", getattr(result, "entry_id", "?"), exc)
        except arxiv.HTTPError as exc:
            raise SourceError(f"arXiv: HTTP {exc.status} from {self._api_url}") from None
        except arxiv.UnexpectedEmptyPageError:
            raise SourceError(f"arXiv: unexpected empty page from {self._api_url}") from None
        except requests.Timeout:
            raise SourceError(f"arXiv: timed out after {_REQUEST_TIMEOUT:g} s") from None
        except requests.RequestException as exc:
            raise SourceError(f"arXiv: connection failed ({type(exc).__name__})") from None
        except arxiv.ArxivError as exc:
            raise SourceError(f"arXiv: {type(exc).__name__} from {self._api_url}") from None
        finally:
            session.close()
        if not papers and session.last_body is not None and _feed_is_malformed(session.last_body):
            # The package logs a malformed feed and yields nothing; an empty answer must not look like "no papers".
            raise SourceError(f"arXiv: malformed response from {self._api_url}")
        return papers


def _feed_is_malformed(body: bytes) -> bool:
    # The package parses with lxml in recover mode, so an HTML error page is "well formed" but has no feed.
    return b"<feed" not in body or bool(arxiv._feed.parse(body).malformed)


def build_query(categories: Sequence[str], query: str | None) -> str:
    """`cat:cs.CL OR cat:cs.LG`, AND-ed with the free query; ValueError when both are empty."""
    cats = [c.strip() for c in categories if c.strip()]
    parts: list[str] = []
    if cats:
        joined = " OR ".join(f"cat:{c}" for c in cats)
        parts.append(f"({joined})" if len(cats) > 1 and query else joined)
    if query and query.strip():
        parts.append(f"({query.strip()})" if cats else query.strip())
    if not parts:
        raise ValueError("an arXiv fetch needs categories or a query")
    return " AND ".join(parts)


def paper_from_result(result: arxiv.Result) -> Paper:
    """Map one `arxiv.Result` to a `Paper` (no featured days, no upvotes: those are Hugging Face's)."""
    try:
        paper_id = canonical_arxiv_id(result.entry_id)
    except ValueError as exc:
        raise SourceError(f"arXiv entry has no arXiv id: {exc}") from None
    title = normalise_whitespace(result.title or "")
    if not title:
        raise SourceError(f"arXiv entry {paper_id} has no title")
    published = result.published
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    authors = tuple(n for n in (normalise_whitespace(a.name) for a in result.authors) if n)
    return Paper(
        id=paper_id,
        title=title,
        abstract=normalise_whitespace(result.summary or ""),
        authors=authors,
        published_at=published if isinstance(published, datetime) else None,
        upvotes=0,
        sources=(Source.ARXIV,),
        categories=tuple(result.categories),
    )

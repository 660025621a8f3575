"""Hugging Face Daily Papers, through huggingface_hub's HTTP stack.

The endpoints are the ones `HfApi.list_daily_papers`, `HfApi.paper_info` and `HfApi.list_papers` call
(`/api/daily_papers`, `/api/papers/{id}`, `/api/papers/search`), with the same shared session
(`huggingface_hub.utils.get_session`, an httpx2 client) and the same error mapping (`hf_raise_for_status`),
so proxies, `HF_ENDPOINT` mirrors and offline mode behave as for any huggingface_hub call; the headers are
Paperboy's own (see `HfDailyPapers._headers`). We do not go through `HfApi`'s methods because `PaperInfo`
loses fields (see `bot.sources.records`): the raw JSON is parsed by `parse_daily_paper` instead.

huggingface_hub's shared client has no timeout (`timeout=None`), so every request passes one. The
blocking client runs in `asyncio.to_thread`. Every failure becomes a `SourceError` whose message is
short, says what failed, and never contains the token.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import date
from typing import Any

import httpx2
import huggingface_hub
from huggingface_hub import HfApi, get_session, hf_raise_for_status
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from pydantic import SecretStr

from bot import __version__
from bot.errors import SourceError, SourceRateLimited
from bot.progress import PageProgress
from bot.sources.records import parse_daily_paper
from bot.types import Paper, canonical_arxiv_id

__all__ = ["HfDailyPapers"]

logger = logging.getLogger(__name__)

_ISO_WEEK = re.compile(r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_MAX_RETRY_AFTER = 30.0


class HfDailyPapers:
    """Fetch Daily Papers days, weeks and months, single papers and search results from the Hub.

    `last_skipped` is the number of malformed records skipped by the most recent listing call
    (a partial day keeps its good papers; the skipped ones are logged with their index).
    """

    page_size = 100
    max_pages = 50

    def __init__(
        self, endpoint: str = "https://huggingface.co", token: SecretStr | None = None, timeout: float = 20.0
    ) -> None:
        self._endpoint = (HfApi(endpoint=endpoint).endpoint or endpoint).rstrip("/")
        self._token = token
        self._timeout = timeout
        self.last_skipped = 0

    def __repr__(self) -> str:
        return f"HfDailyPapers(endpoint={self._endpoint!r}, token={'set' if self._token else 'unset'})"

    # -----------------------------------------------------------------------------------------
    # Public, async

    async def fetch_day(self, day: date) -> list[Paper]:
        """The papers featured on one Daily Papers day."""
        return await asyncio.to_thread(self._list_sync, {"date": day.isoformat()}, f"day {day.isoformat()}")

    async def fetch_week(self, iso_week: str, *, progress: PageProgress | None = None) -> list[Paper]:
        """The papers featured in one ISO week, e.g. `2025-W09`."""
        if not _ISO_WEEK.match(iso_week):
            raise ValueError(f"{iso_week!r} is not an ISO week like 2025-W09")
        return await asyncio.to_thread(self._list_sync, {"week": iso_week}, f"week {iso_week}", progress)

    async def fetch_month(self, month: str, *, progress: PageProgress | None = None) -> list[Paper]:
        """The papers featured in one month, e.g. `2025-02` (up to `max_pages` pages: `progress` shows them)."""
        if not _MONTH.match(month):
            raise ValueError(f"{month!r} is not a month like 2025-02")
        return await asyncio.to_thread(self._list_sync, {"month": month}, f"month {month}", progress)

    async def paper(self, arxiv_id: str) -> Paper | None:
        """One paper by arXiv id or URL; None when the Hub does not know it (404).

        Raises ValueError when `arxiv_id` is not an arXiv id or URL.
        """
        paper_id = canonical_arxiv_id(arxiv_id)
        return await asyncio.to_thread(self._paper_sync, paper_id)

    async def search(self, query: str, limit: int = 20) -> list[Paper]:
        """Papers matching `query` by the Hub's paper search, at most `limit`."""
        return await asyncio.to_thread(self._search_sync, query, limit)

    # -----------------------------------------------------------------------------------------
    # Blocking parts, run in a worker thread

    def _list_sync(self, params: dict[str, str], what: str, progress: PageProgress | None = None) -> list[Paper]:
        papers: list[Paper] = []
        skipped = 0
        for page_no in range(self.max_pages):
            page_params: dict[str, str | int] = {**params, "p": page_no, "limit": self.page_size}
            page = self._get_json("/api/daily_papers", page_params, what)
            if not isinstance(page, list):
                raise SourceError(f"HF daily papers {what}: expected a JSON list, got {type(page).__name__}")
            good, bad = self._parse_many(page, what, first_index=page_no * self.page_size)
            papers.extend(good)
            skipped += bad
            if progress is not None:
                progress.page(len(good))
            if len(page) < self.page_size:
                break
        else:
            logger.warning("HF daily papers %s: stopped after %d pages", what, self.max_pages)
        self.last_skipped = skipped
        return papers

    def _paper_sync(self, paper_id: str) -> Paper | None:
        data = self._get_json(f"/api/papers/{paper_id}", {}, f"paper {paper_id}", none_on_404=True)
        if data is None:
            return None
        if not isinstance(data, dict):
            raise SourceError(f"HF paper {paper_id}: expected a JSON object, got {type(data).__name__}")
        return parse_daily_paper(data)

    def _search_sync(self, query: str, limit: int) -> list[Paper]:
        what = "search"
        data = self._get_json("/api/papers/search", {"q": query, "limit": limit}, what)
        if not isinstance(data, list):
            raise SourceError(f"HF paper search: expected a JSON list, got {type(data).__name__}")
        papers, skipped = self._parse_many(data[: max(limit, 0)], what, first_index=0)
        self.last_skipped = skipped
        return papers

    def _parse_many(self, records: list[Any], what: str, *, first_index: int) -> tuple[list[Paper], int]:
        papers: list[Paper] = []
        skipped = 0
        for offset, record in enumerate(records):
            try:
                papers.append(parse_daily_paper(record))
            except SourceError as exc:
                skipped += 1
                logger.warning("HF daily papers %s: skipped record %d: %s", what, first_index + offset, exc)
        return papers, skipped

    def _get_json(self, path: str, params: dict[str, str | int], what: str, *, none_on_404: bool = False) -> Any:
        response = self._send(path, params, what)
        if response.status_code == 429:
            wait = _retry_after(response)
            if wait is None:
                raise SourceRateLimited(f"HF {what}: rate limited (HTTP 429), try again later")
            logger.info("HF %s: rate limited, retrying once in %.1f s", what, wait)
            time.sleep(wait)
            response = self._send(path, params, what)
            if response.status_code == 429:
                raise SourceRateLimited(f"HF {what}: rate limited (HTTP 429) twice, try again later")
        if none_on_404 and response.status_code == 404:
            return None
        try:
            hf_raise_for_status(response)
        except HfHubHTTPError:
            raise SourceError(f"HF {what}: HTTP {response.status_code} from {self._endpoint}{path}") from None
        try:
            return response.json()
        except ValueError:
            raise SourceError(f"HF {what}: malformed JSON from {self._endpoint}{path}") from None

    def _headers(self) -> dict[str, str]:
        """Paperboy's user agent, and the token from the settings (never one saved on the machine).

        Not `build_hf_headers`: since huggingface_hub 2.x it looks for an AI-agent harness while building
        the user agent, which fetches a registry from huggingface.co (`HF_ENDPOINT` at import time, not
        this source's endpoint) and caches it in the home folder: a request a bot pointed at a mirror
        must not make.
        """
        headers = {"user-agent": f"paperboy/{__version__}; hf_hub/{huggingface_hub.__version__}"}
        if self._token is not None:
            headers["authorization"] = f"Bearer {self._token.get_secret_value()}"
        return headers

    def _send(self, path: str, params: dict[str, str | int], what: str) -> httpx2.Response:
        try:
            headers = self._headers()
            return get_session().get(f"{self._endpoint}{path}", params=params, headers=headers, timeout=self._timeout)
        except httpx2.TimeoutException:
            raise SourceError(f"HF {what}: timed out after {self._timeout:g} s") from None
        except OfflineModeIsEnabled:
            raise SourceError(f"HF {what}: huggingface_hub offline mode is on (HF_HUB_OFFLINE)") from None
        except httpx2.HTTPError as exc:
            raise SourceError(f"HF {what}: connection failed ({type(exc).__name__})") from None
        except ValueError as exc:
            # httpx2 rejects a malformed token in a header; its message is not shown because it may echo it.
            raise SourceError(f"HF {what}: request not sent ({type(exc).__name__})") from None


def _retry_after(response: httpx2.Response) -> float | None:
    """Seconds to wait before the one retry, or None when the server asked for too long (or said nothing)."""
    header = response.headers.get("Retry-After")
    if header is None:
        return None
    try:
        seconds = float(header)
    except ValueError:
        return None
    if not 0 <= seconds <= _MAX_RETRY_AFTER:
        return None
    return seconds

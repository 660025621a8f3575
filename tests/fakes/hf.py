"""A fake Hugging Face Hub serving the shared Daily Papers archive on 127.0.0.1.

Speaks the endpoints huggingface_hub calls: `/api/daily_papers` (date / week / month, `p` and `limit`
paging), `/api/papers/{id}` (the bare paper object; 404 JSON for unknown ids) and `/api/papers/search?q=`
(a case-insensitive substring match over titles). It runs a threaded stdlib server in a background thread,
so it works from sync tests and from async tests whose client runs in a worker thread.

Fault knobs (each applies to the next N requests): `fail_next` (HTTP 500), `rate_limit_next` with
`retry_after` (HTTP 429), `malformed_json_next`, `not_a_list_next`, `slow_next` with `delay` seconds.
`corrupt_index` replaces that index of every listing with a malformed record (no arXiv id).
Requests are recorded in `requests` for assertions.

Papers keep moving: `releases` are changes that appear on a fake day (code, linked models, datasets and
Spaces, upvotes); the fake serves those whose day is at or before `today` (a test moves `today` with
its fixed clock). A listing carries the fields the real feed carries (`githubRepo`, `githubStars`,
`upvotes`); linked repositories and their totals only come with `/api/papers/{id}`, as on the Hub.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.shared_data import ARCHIVE


@cache
def archive_records() -> tuple[dict[str, Any], ...]:
    """Every record of the shared archive, in file order (each file is `sort=publishedAt` order)."""
    records: list[dict[str, Any]] = []
    for path in sorted(ARCHIVE.glob("*.json")):
        records.extend(json.loads(path.read_text(encoding="utf-8")))
    return tuple(records)


@cache
def records_by_id() -> dict[str, dict[str, Any]]:
    """The archive's paper objects by arXiv id (the first record of a paper featured twice)."""
    found: dict[str, dict[str, Any]] = {}
    for record in archive_records():
        found.setdefault(str(record["paper"]["id"]), record["paper"])
    return found


def featured_day(record: dict[str, Any]) -> str:
    return str(record["paper"]["submittedOnDailyAt"])[:10]


def iso_week(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


LISTING_FIELDS = frozenset({"githubRepo", "githubStars", "upvotes"})
"""What a Daily Papers listing carries of a paper's later changes; the rest is paper-info only."""


@dataclass(frozen=True)
class Release:
    """From fake day `on`, paper `paper_id` has `fields` (the Hub's names: `githubRepo`, `linkedModels`...)."""

    paper_id: str
    on: date
    fields: dict[str, Any]


def linked(kind: str, *names: str, total: int | None = None) -> dict[str, Any]:
    """The paper-info fields for linked repositories: `linked("Models", "org/a", total=4)`."""
    return {f"linked{kind}": [{"id": n} for n in names], f"numTotal{kind}": len(names) if total is None else total}


@dataclass
class RecordedRequest:
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    at: float


@dataclass
class FakeHub:
    url: str = ""
    fail_next: int = 0
    rate_limit_next: int = 0
    retry_after: str | None = "0"
    malformed_json_next: int = 0
    not_a_list_next: int = 0
    slow_next: int = 0
    delay: float = 1.0
    corrupt_index: int | None = None
    stale_days: dict[str, str] = field(default_factory=dict)
    """day -> another day whose records the feed serves for it (a stale feed repeating a batch)."""
    partial_days: dict[str, int] = field(default_factory=dict)
    """day -> how many of its records the feed serves (a partial day)."""
    empty_days: set[str] = field(default_factory=set)
    """days the feed serves nothing for (not published yet, or lost)."""
    extra_papers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """More paper objects for `/api/papers/{id}` than the archive has (a benchmark's 10,000)."""
    releases: list[Release] = field(default_factory=list)
    today: date | None = None
    """The fake's day: releases on or before it are served (None: every release)."""
    requests: list[RecordedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def released(self, paper: dict[str, Any], *, listing: bool) -> dict[str, Any]:
        """`paper` as the Hub shows it today: the releases so far merged in, in order of their day."""
        with self._lock:
            due = [
                r for r in self.releases if r.paper_id == paper.get("id") and (self.today is None or r.on <= self.today)
            ]
        if not due:
            return paper
        shown = dict(paper)
        for release in sorted(due, key=lambda r: r.on):
            shown.update({k: v for k, v in release.fields.items() if not listing or k in LISTING_FIELDS})
        return shown

    def _listed(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "paper": self.released(r["paper"], listing=True)} if "paper" in r else r for r in records]

    def _take(self, knob: str) -> bool:
        with self._lock:
            left = int(getattr(self, knob))
            if left > 0:
                setattr(self, knob, left - 1)
                return True
            return False

    def handle(self, path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(RecordedRequest(path, params, headers, time.monotonic()))
        if self._take("slow_next"):
            time.sleep(self.delay)
        if self._take("fail_next"):
            return _json(500, {"error": "Internal Error"})
        if self._take("rate_limit_next"):
            status, extra, body = _json(429, {"error": "Too Many Requests"})
            if self.retry_after is not None:
                extra["Retry-After"] = self.retry_after
            return status, extra, body
        if self._take("malformed_json_next"):
            return 200, {"Content-Type": "application/json"}, b'[{"paper": {"id": "2401.'
        if self._take("not_a_list_next"):
            return _json(200, {"error": "not what you expected"})
        if path == "/api/daily_papers":
            return self._daily(params)
        if path == "/api/papers/search":
            needle = params.get("q", "").lower()
            found = [r for r in archive_records() if needle in r["paper"]["title"].lower()]
            limit = int(params.get("limit", "20") or 20)
            return _json(200, self._listed(found[:limit]))
        if path.startswith("/api/papers/"):
            wanted = unquote(path.removeprefix("/api/papers/"))
            found = self.extra_papers.get(wanted) or records_by_id().get(wanted)
            if found is None:
                return _json(404, {"error": "Paper not found"})
            return _json(200, self.released(found, listing=False))
        return _json(404, {"error": "Not found"})

    def _daily(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        records = archive_records()
        if "date" in params:
            try:
                date.fromisoformat(params["date"])
            except ValueError:
                return _json(400, {"error": "Invalid date"})
            day = params["date"]
            served = self.stale_days.get(day, day)
            chosen = [] if day in self.empty_days else [r for r in records if featured_day(r) == served]
            if day in self.partial_days:
                chosen = chosen[: self.partial_days[day]]
        elif "week" in params:
            chosen = [r for r in records if iso_week(featured_day(r)) == params["week"]]
        elif "month" in params:
            chosen = [r for r in records if featured_day(r)[:7] == params["month"]]
        else:
            latest = max(featured_day(r) for r in records)
            chosen = [r for r in records if featured_day(r) == latest]
        if self.corrupt_index is not None and self.corrupt_index < len(chosen):
            chosen = list(chosen)
            chosen[self.corrupt_index] = {"paper": {"title": "no id here"}, "title": "no id here"}
        page, limit = int(params.get("p", "0")), int(params.get("limit", "50"))
        return _json(200, self._listed(chosen[page * limit : (page + 1) * limit]))


def _json(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(payload).encode()


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, a keep-alive client's delayed
    # ACK holds every answer ~40 ms (the real Hub answers in one go).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        status, headers, body = self.hub.handle(parts.path, params, {k.lower(): v for k, v in self.headers.items()})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client timed out and left
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_fake_hub() -> Iterator[FakeHub]:
    """Start a fake Hub on 127.0.0.1 (port 0) in a background thread; yields it with `url` set."""
    records_by_id()  # load before the first request so request timings are not the JSON parse
    hub = FakeHub()
    handler = type("Handler", (_Handler,), {"hub": hub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

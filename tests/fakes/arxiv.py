"""A fake arXiv API on 127.0.0.1 serving the shared recorded Atom response.

`/api/query` answers with `/work/shared/data/arxiv/arxiv_response.xml` (2 cs.RO entries). The recorded
`totalResults` (5619) is rewritten to the 2 entries the fake really has, and a `start` past them gets an
empty feed, so the `arxiv` package's paging ends as it would against arXiv. An `id_list` (a lookup by id)
gets only the recorded entries it names, none for an id the recording lacks. Every request's monotonic time
and query string is recorded. `fail_next` answers 503; `garbage_next` answers a non-XML body.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.shared_data import ARXIV_RESPONSE

RESPONSE = ARXIV_RESPONSE
ENTRIES = 2


def _feed(start: int, id_list: str = "") -> bytes:
    """The recorded feed from `start`; with `id_list` (arXiv's lookup by id), only the entries it names."""
    text = RESPONSE.read_text(encoding="utf-8")
    if id_list:
        wanted = {i.strip() for i in id_list.split(",") if i.strip()}

        def keep(entry: re.Match[str]) -> str:
            found = re.search(r"<id>https?://arxiv.org/abs/([^<v]+)(v\d+)?</id>", entry.group(0))
            return entry.group(0) if found and found.group(1) in wanted else ""

        text = re.sub(r"<entry>.*?</entry>", keep, text, flags=re.DOTALL)
    total = 0 if start else text.count("<entry>")
    text = re.sub(r"(<opensearch:totalResults[^>]*>)\d+(<)", rf"\g<1>{total if id_list else ENTRIES}\g<2>", text)
    if start >= (total if id_list else ENTRIES):
        text = re.sub(r"<entry>.*?</entry>", "", text, flags=re.DOTALL)
    return text.encode()


@dataclass
class ArxivRequest:
    path: str
    params: dict[str, str]
    at: float


@dataclass
class FakeArxiv:
    url: str = ""
    fail_next: int = 0
    garbage_next: int = 0
    requests: list[ArxivRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def handle(self, path: str, params: dict[str, str]) -> tuple[int, str, bytes]:
        with self._lock:
            self.requests.append(ArxivRequest(path, params, time.monotonic()))
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503, "text/plain", b"Service Unavailable"
            if self.garbage_next > 0:
                self.garbage_next -= 1
                return 200, "text/html", b"<html><body>Rate exceeded. <b>oops"
        if path != "/api/query":
            return 404, "text/plain", b"not found"
        start = int(params.get("start", "0") or 0)
        return 200, "application/atom+xml; charset=utf-8", _feed(start, params.get("id_list", ""))


class _Handler(BaseHTTPRequestHandler):
    fake: FakeArxiv
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        status, content_type, body = self.fake.handle(parts.path, params)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_fake_arxiv() -> Iterator[FakeArxiv]:
    """Start the fake on 127.0.0.1 (port 0) in a background thread; `url` is the `/api/query` URL."""
    fake = FakeArxiv()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"fake": fake}))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api/query"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

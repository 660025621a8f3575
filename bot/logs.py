"""Logging setup: one line per event, text or JSON, with secrets scrubbed from every line."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

# Fields every log line written inside `log_fields(...)` carries (JSON lines as fields of their own), so an
# operator filters by channel or delivery instead of parsing messages. A contextvar: each asyncio task
# (one delivery, one command) sees its own.
FIELDS = ("platform", "workspace", "channel", "delivery")
_fields: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("paperboy_log_fields", default=None)


@contextmanager
def log_fields(**fields: str | None) -> Iterator[None]:
    """Add `platform`, `workspace`, `channel`, `delivery` to every log line written inside the block."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown log fields: {sorted(unknown)}")
    token = _fields.set({**(_fields.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _fields.reset(token)


def current_fields() -> dict[str, str]:
    return dict(_fields.get() or {})


# Slack tokens (xoxb-, xoxp-, xapp-, xoxe-...), Discord bot tokens (three dot-separated base64 parts),
# Hugging Face tokens (hf_...), and bearer headers. A library that logs a request must not leak them.
_SECRET = re.compile(
    r"(xox[abposer]-[0-9A-Za-z-]+|xapp-[0-9A-Za-z-]+|hf_[0-9A-Za-z]{20,}|"
    r"[MNO][A-Za-z\d_-]{23,27}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}|(?i:bearer)\s+[A-Za-z0-9._~+/-]+=*)"
)


def scrub(text: str) -> str:
    return _SECRET.sub("[redacted]", text)


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key, value in (_fields.get() or {}).items():
            entry[key] = scrub(value)
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", *, json_format: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_format else ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # Third-party request logs are noisy at INFO and may echo URLs with tokens in them.
    for noisy in ("httpx", "httpx2", "urllib3", "arxiv", "apscheduler", "discord.gateway", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

"""Prometheus metrics, served on `GET /metrics`. Label values are bounded sets (never ids or text).

What to alert on (README "Alerts"): a source whose last success is old, failing deliveries, and the
scheduler starting jobs late.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from bot import __version__

BUILD_INFO = Gauge("paperboy_build_info", "Always 1; the running version in its label", ["version"])
BUILD_INFO.labels(version=__version__).set(1)

COMMANDS = Counter("paperboy_commands_total", "Commands handled", ["command", "outcome"])
DIGESTS = Counter("paperboy_digests_total", "Digest runs by outcome", ["platform", "outcome"])
DELIVERIES = Counter("paperboy_deliveries_total", "Delivery attempts by outcome", ["platform", "outcome"])
DELIVERY_SECONDS = Histogram(
    "paperboy_delivery_seconds",
    "Time from claim to recorded post",
    ["platform"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
SOURCE_FETCHES = Counter("paperboy_source_fetches_total", "Source fetches by outcome", ["source", "outcome"])
SOURCE_LAST_SUCCESS = Gauge(
    "paperboy_source_last_success_timestamp_seconds",
    "Unix time of the source's last successful fetch (restored from the database at start)",
    ["source"],
)
# A histogram, not a last value: one late job between two scrapes would vanish from a gauge.
SCHEDULER_LAG = Histogram(
    "paperboy_scheduler_lag_seconds",
    "How late each scheduled job started",
    buckets=(0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900, 3600),
)

"""Prometheus metrics, served on `GET /metrics`. Label values are bounded sets (never ids or text)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
SCHEDULER_LAG = Gauge("paperboy_scheduler_lag_seconds", "How late the last digest job started")

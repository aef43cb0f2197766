"""Prometheus metrics (exposed at ``GET /metrics``). Durations in seconds.

With ``photochanger serve --workers N`` every worker writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` (set by ``serve``) and ``/metrics`` adds them up across workers
(prometheus-client's multiprocess mode); with one process the default registry is used.
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 12, 20, 30, 45, 60)

INGEST_REQUESTS = Counter(
    "photochanger_ingest_requests_total",
    "Ingest requests by slot and outcome (failure_reason, or 'ok').",
    ["slot", "outcome"],
)
INGEST_SECONDS = Histogram(
    "photochanger_ingest_duration_seconds",
    "Wall time of ingest requests from arrival to response.",
    ["outcome"],
    buckets=LATENCY_BUCKETS,
)
PROVIDER_ATTEMPT_SECONDS = Histogram(
    "photochanger_provider_attempt_duration_seconds",
    "Duration of single provider attempts.",
    ["provider", "outcome"],
    buckets=LATENCY_BUCKETS,
)
INGEST_REJECTED_IN_FLIGHT = Counter(
    "photochanger_ingest_rate_limited_total", "Ingests refused by the in-flight limits.", ["scope"]
)
CLEANUP_FILES = Counter("photochanger_cleanup_files_total", "Media files removed by cleanup.")
ROUTE_ATTEMPT_SECONDS = Histogram(
    "photochanger_route_attempt_duration_seconds",
    "Duration of provider attempts per route (provider:model) and outcome.",
    ["route", "outcome"],
    buckets=LATENCY_BUCKETS,
)
ROUTE_STATE = Gauge(
    "photochanger_route_circuit_state",
    "Circuit of each route as this process last saw it: 0 closed, 1 half-open, 2 open.",
    ["route"],
    multiprocess_mode="mostrecent",
)
INGEST_QUEUE_SECONDS = Histogram(
    "photochanger_ingest_queue_seconds",
    "Time an ingest waited for an in-flight place (slot and provider limits).",
    buckets=(0, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 12, 20, 30),
)

LATE_JOBS = Counter(
    "photochanger_late_jobs_total",
    "Jobs whose AI photo went on after the booth's deadline, by event: handed_off, resumed (taken over "
    "after a crash or a stop), delivered, failed.",
    ["event"],
)

SPEND_USD = Counter(
    "photochanger_spend_usd_total",
    "Estimated spend in US dollars (list prices) settled per route (provider:model).",
    ["route"],
)
EVENT_SPEND_USD = Counter(
    "photochanger_event_spend_usd_total",
    "Estimated spend in US dollars (list prices) settled per event (its id; one event a night).",
    ["event"],
)


def exposition() -> tuple[bytes, str]:
    """The text exposition of every metric (summed over workers in multiprocess mode) and its
    content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST

"""Prometheus metrics: requests, latencies, and the lake's ingest lag and backlog."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Path templates used as the `route` label (anything else is "other": bounded cardinality).
_ROUTES = [
    (re.compile(r"^/api/reports/[^/]+$"), "/api/reports/{name}"),
    (re.compile(r"^/api/events/[^/]+$"), "/api/events/{id}"),
    (re.compile(r"^/events/[^/]+$"), "/events/{id}"),
    (re.compile(r"^/dashboards/[^/]+$"), "/dashboards/{slug}"),
    (re.compile(r"^/static/.*$"), "/static"),
]
_FIXED = {
    "/", "/login", "/logout", "/sql", "/events", "/status", "/admin", "/metrics", "/api/query",
    "/api/reports", "/api/status", "/api/tables", "/api/openapi.json", "/api/me", "/api/events",
    "/sql.csv", "/admin/grants", "/admin/tokens", "/admin/revoke",
}  # fmt: skip


def route_label(path: str) -> str:
    if path in _FIXED:
        return path
    for pattern, label in _ROUTES:
        if pattern.match(path):
            return label
    return "other"


class _LakeCollector(Collector):
    """Ingest lag and backlog, from the lake's status (cached: a scrape must stay cheap)."""

    def __init__(self, status: Callable[[], dict[str, Any]], cache_seconds: float = 15.0) -> None:
        self.status = status
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, dict[str, Any]] | None = None

    def _current(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] > self.cache_seconds:
            try:
                self._cached = (now, self.status())
            except Exception:  # a broken lake must not break the scrape
                self._cached = (now, {})
        return self._cached[1]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        status = self._current()
        lag = GaugeMetricFamily(
            "trailhouse_ingest_lag_seconds", "Now minus the newest eventTime in the lake."
        )
        if isinstance(status.get("lag_seconds"), int | float):
            lag.add_metric([], float(status["lag_seconds"]))
        yield lag
        backlog = GaugeMetricFamily(
            "trailhouse_ingest_backlog", "Ingest backlog as reported by the lake status.", labels=["kind"]
        )
        for key, value in (status.get("backlog") or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                backlog.add_metric([str(key)], float(value))
        yield backlog
        objects = GaugeMetricFamily(
            "trailhouse_ledger_objects", "Source objects in the ledger, by status.", labels=["status"]
        )
        for key, value in (status.get("objects_by_status") or {}).items():
            objects.add_metric([str(key)], float(value))
        yield objects


class Metrics:
    def __init__(self, status: Callable[[], dict[str, Any]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "trailhouse_http_requests",
            "HTTP requests served.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "trailhouse_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.registry.register(_LakeCollector(status))

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        route = route_label(path)
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)

"""Prometheus metrics of the API, in a registry of its own (one per app)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shared.events import AssetRegenerationRequested, LectureCreated

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class ApiMetrics:
    """Request counts and latency by route template and status class: bounded labels only."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "lecturegen_api_requests",
            "HTTP requests answered",
            ["method", "route", "status_class"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "lecturegen_api_request_duration_seconds",
            "Time to answer an HTTP request (for SSE: the stream's lifetime)",
            ["method", "route"],
            registry=self.registry,
        )
        self.sse_clients = Gauge(
            "lecturegen_api_sse_clients", "Open SSE streams", registry=self.registry
        )
        self.events_appended = Counter(
            "lecturegen_api_events_appended",
            "Events appended to the event log",
            ["type"],
            registry=self.registry,
        )

    def start_series_at_zero(self, routes: Iterable[tuple[str, str]]) -> None:
        """Every (method, route) at zero from start-up, answered and failed, and every event
        type: the 5xx-ratio alert and the dashboard see series before the first request."""
        for method, route in routes:
            for status_class in ("2xx", "5xx"):
                self.requests.labels(method, route, status_class)
        for payload in (LectureCreated, AssetRegenerationRequested):
            self.events_appended.labels(payload.short_type())

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        method = method if method in KNOWN_METHODS else "OTHER"
        route = route or UNMATCHED
        self.requests.labels(method, route, f"{status // 100}xx").inc()
        self.latency.labels(method, route).observe(seconds)

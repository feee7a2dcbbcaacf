"""The projector's Prometheus metrics, in a registry of their own (one per process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shared.events import EVENT_TYPES


class ProjectorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events_applied = Counter(
            "lecturegen_projector_events_applied",
            "Events of the log applied to the views, by type (superseded ones included).",
            ["type"],
            registry=r,
        )
        self.events_rejected = Counter(
            "lecturegen_projector_events_rejected",
            "Records of the log that could not be decoded or stored, skipped.",
            registry=r,
        )
        self.apply_seconds = Histogram(
            "lecturegen_projector_apply_seconds",
            "Time to apply one batch in one transaction.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.lag_seconds = Gauge(
            "lecturegen_projector_lag_seconds",
            "Now minus the time of the last applied event; 0 when caught up with the log.",
            registry=r,
        )
        self.generation = Gauge(
            "lecturegen_projector_generation",
            "The projection generation being written.",
            registry=r,
        )
        self.rebuild_progress = Gauge(
            "lecturegen_projector_rebuild_progress",
            "Share of the log a running rebuild has replayed (0 to 1).",
            registry=r,
        )
        for payload in EVENT_TYPES:  # every type at zero from start-up, for rates and alerts
            self.events_applied.labels(payload.short_type())

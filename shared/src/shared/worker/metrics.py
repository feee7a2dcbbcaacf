"""The Prometheus metrics of a media worker, on a registry of its own.

Labels are bounded: the medium, an outcome or verdict, an error code, a tier, a reason.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shared.errors import ErrorCode
from shared.media import MediaKind
from shared.status import AssetStatus
from shared.topics import tier_label
from shared.worker.versions import Verdict

DEAD_LETTER_REASONS = ("poison", "exhausted", "failed")
"""Why a record went to the dead-letter topic: unreadable, retries exhausted, failed for good."""
RESUME_SOURCES = ("retry", "redelivery")
OUTCOMES = tuple(s.value for s in AssetStatus if s is not AssetStatus.PENDING)
SKIP_VERDICTS = tuple(v.value for v in Verdict if v not in (Verdict.PROCEED, Verdict.RESEND))

_CALL_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640)
_LATENCY_BUCKETS = (0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560)


class WorkerMetrics:
    """Counters, gauges and histograms of one worker; `registry` is what `/metrics` serves."""

    def __init__(
        self,
        kind: MediaKind,
        registry: CollectorRegistry | None = None,
        tiers_ms: Iterable[int] = (),
    ) -> None:
        self.kind = kind
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.attempts = Counter(
            "lecturegen_worker_attempts_total",
            "Provider attempts by outcome: generated, retrying, needs_prompt_update, failed.",
            ["medium", "outcome"],
            registry=r,
        )
        self.errors = Counter(
            "lecturegen_worker_errors_total",
            "Failed provider attempts by error code.",
            ["medium", "code"],
            registry=r,
        )
        self.retries = Counter(
            "lecturegen_worker_retries_scheduled_total",
            "Retries written to a delay tier.",
            ["medium", "tier"],
            registry=r,
        )
        self.dead_letters = Counter(
            "lecturegen_worker_dead_letters_total",
            "Records written to the dead-letter topic, by reason.",
            ["medium", "reason"],
            registry=r,
        )
        self.skipped = Counter(
            "lecturegen_worker_requests_skipped_total",
            "Requests not sent to the provider because of idempotency (superseded, done, …).",
            ["medium", "verdict"],
            registry=r,
        )
        self.resumed = Counter(
            "lecturegen_worker_predictions_resumed_total",
            "Attempts that polled a known prediction instead of creating one, by what handed "
            "it on: a retry record, or the worker's own row after a redelivery.",
            ["medium", "source"],
            registry=r,
        )
        self.in_flight = Gauge(
            "lecturegen_worker_provider_calls_in_flight",
            "Provider calls running now.",
            ["medium"],
            registry=r,
        )
        self.call_duration = Histogram(
            "lecturegen_worker_provider_call_duration_seconds",
            "Duration of one provider attempt, storage included.",
            ["medium"],
            buckets=_CALL_BUCKETS,
            registry=r,
        )
        self.request_to_outcome = Histogram(
            "lecturegen_worker_request_to_outcome_seconds",
            "From the request (requested_at) to its terminal outcome, retries included.",
            ["medium", "outcome"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self._publish_zeros(tiers_ms)

    def _publish_zeros(self, tiers_ms: Iterable[int]) -> None:
        """Every series of a known label value exists from start-up at zero: an alert on
        `increase(...)` needs a sample before the first increment to see it (the first dead
        letter of a medium), and a dashboard shows 0 instead of "no data"."""
        medium = self.kind.value
        for code in ErrorCode:
            self.errors.labels(medium, code.value)
        for reason in DEAD_LETTER_REASONS:
            self.dead_letters.labels(medium, reason)
        for outcome in OUTCOMES:
            self.attempts.labels(medium, outcome)
            self.request_to_outcome.labels(medium, outcome)
        for verdict in SKIP_VERDICTS:
            self.skipped.labels(medium, verdict)
        for source in RESUME_SOURCES:
            self.resumed.labels(medium, source)
        for tier_ms in tiers_ms:
            self.retries.labels(medium, tier_label(tier_ms))
        # the series every turn touches, looked up once (labels() takes a lock each time)
        self._calls_in_flight = self.in_flight.labels(medium)
        self._call_duration = self.call_duration.labels(medium)
        self._attempts = {o: self.attempts.labels(medium, o) for o in OUTCOMES}
        self._to_outcome = {o: self.request_to_outcome.labels(medium, o) for o in OUTCOMES}

    def attempt(self, outcome: str) -> None:
        series = self._attempts.get(outcome) or self.attempts.labels(self.kind.value, outcome)
        series.inc()

    def error(self, code: ErrorCode) -> None:
        self.errors.labels(self.kind.value, code.value).inc()

    def retry(self, tier_ms: int) -> None:
        self.retries.labels(self.kind.value, tier_label(tier_ms)).inc()

    def dead_letter(self, reason: str) -> None:
        self.dead_letters.labels(self.kind.value, reason).inc()

    def skip(self, verdict: str) -> None:
        self.skipped.labels(self.kind.value, verdict).inc()

    def resume(self, source: str) -> None:
        self.resumed.labels(self.kind.value, source).inc()

    def call_started(self) -> None:
        self._calls_in_flight.inc()

    def call_ended(self, seconds: float) -> None:
        self._calls_in_flight.dec()
        self._call_duration.observe(seconds)

    def finished(self, outcome: str, seconds: float) -> None:
        series = self._to_outcome.get(outcome) or self.request_to_outcome.labels(
            self.kind.value, outcome
        )
        series.observe(max(0.0, seconds))

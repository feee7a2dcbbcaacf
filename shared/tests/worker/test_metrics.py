"""Every series an alert or a dashboard watches exists at zero from start-up."""

from __future__ import annotations

from shared.media import MediaKind
from shared.worker.metrics import DEAD_LETTER_REASONS, WorkerMetrics


def test_dead_letters_of_every_reason_are_exported_at_zero_before_the_first_one() -> None:
    metrics = WorkerMetrics(MediaKind.NARRATION)

    for reason in DEAD_LETTER_REASONS:
        labels = {"medium": "narration", "reason": reason}
        assert (
            metrics.registry.get_sample_value("lecturegen_worker_dead_letters_total", labels) == 0.0
        )


def test_attempts_skips_and_retry_tiers_are_exported_at_zero() -> None:
    metrics = WorkerMetrics(MediaKind.IMAGE, tiers_ms=(5_000, 10_000))
    value = metrics.registry.get_sample_value

    assert value("lecturegen_worker_attempts_total", {"medium": "image", "outcome": "failed"}) == 0
    assert (
        value(
            "lecturegen_worker_requests_skipped_total", {"medium": "image", "verdict": "superseded"}
        )
        == 0
    )
    tiers = {
        sample.labels["tier"]
        for family in metrics.registry.collect()
        if family.name == "lecturegen_worker_retries_scheduled"
        for sample in family.samples
        if sample.name.endswith("_total")
    }
    assert len(tiers) == 2
    assert value("lecturegen_worker_provider_calls_in_flight", {"medium": "image"}) == 0

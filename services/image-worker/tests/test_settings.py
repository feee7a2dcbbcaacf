from __future__ import annotations

import pytest

from image_worker.settings import ImageWorkerSettings


def test_metrics_are_served_on_the_medium_s_own_port_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LECTUREGEN_IMAGE_WORKER_METRICS_PORT", raising=False)

    assert ImageWorkerSettings().metrics_port == 9101


def test_the_worker_reads_its_own_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LECTUREGEN_IMAGE_WORKER_MAX_IN_FLIGHT", "7")
    monkeypatch.setenv("LECTUREGEN_WORKER_MAX_IN_FLIGHT", "99")  # another prefix: ignored

    assert ImageWorkerSettings().max_in_flight == 7

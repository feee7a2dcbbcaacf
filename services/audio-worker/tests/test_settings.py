from __future__ import annotations

import pytest

from audio_worker.settings import NarrationWorkerSettings


def test_metrics_are_served_on_the_medium_s_own_port_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LECTUREGEN_AUDIO_WORKER_METRICS_PORT", raising=False)

    assert NarrationWorkerSettings().metrics_port == 9102


def test_the_worker_reads_its_own_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LECTUREGEN_AUDIO_WORKER_MAX_IN_FLIGHT", "7")
    monkeypatch.setenv("LECTUREGEN_WORKER_MAX_IN_FLIGHT", "99")  # another prefix: ignored

    assert NarrationWorkerSettings().max_in_flight == 7

"""One variable, `LECTUREGEN_METRICS_HOST`, decides where every service binds `/metrics`;
a service's own `*_METRICS_HOST` still overrides it."""

from __future__ import annotations

import pytest

from dispatcher.settings import DispatcherSettings
from image_worker.settings import ImageWorkerSettings
from timeline_projector.config import ProjectorSettings

ServiceSettings = type[DispatcherSettings | ImageWorkerSettings | ProjectorSettings]
SERVICES: tuple[ServiceSettings, ...] = (DispatcherSettings, ImageWorkerSettings, ProjectorSettings)


@pytest.mark.parametrize("settings", SERVICES)
def test_every_service_binds_metrics_to_the_shared_host(
    monkeypatch: pytest.MonkeyPatch, settings: ServiceSettings
) -> None:
    monkeypatch.setenv("LECTUREGEN_METRICS_HOST", "0.0.0.0")

    assert settings().metrics_host == "0.0.0.0"


@pytest.mark.parametrize("settings", SERVICES)
def test_every_service_binds_metrics_to_loopback_by_default(
    monkeypatch: pytest.MonkeyPatch, settings: ServiceSettings
) -> None:
    monkeypatch.delenv("LECTUREGEN_METRICS_HOST", raising=False)

    assert settings().metrics_host == "127.0.0.1"


def test_a_services_own_variable_overrides_the_shared_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LECTUREGEN_METRICS_HOST", "0.0.0.0")
    monkeypatch.setenv("LECTUREGEN_PROJECTOR_METRICS_HOST", "10.0.0.7")

    assert ProjectorSettings().metrics_host == "10.0.0.7"

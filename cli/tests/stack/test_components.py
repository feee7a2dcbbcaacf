"""The table of processes names what each service's own settings read, so a port or group
that `up` hands out is the one the service uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from api.settings import ApiSettings, DefaultModels
from audio_worker.medium import NARRATION
from dispatcher.settings import DispatcherSettings
from image_worker.medium import IMAGE
from lecturegen_cli.stack.components import (
    API,
    DISPATCHER,
    PROJECTOR,
    REPLICATE_SIM,
    WORKER_SETTINGS,
    WORKERS,
    Component,
    pipeline,
)
from lecturegen_cli.stack.launch import plan_launch
from music_worker.medium import MUSIC
from replicate_sim.main import parse_args
from shared.media import MediaKind
from timeline_projector.config import ProjectorSettings
from video_worker.medium import VIDEO


def test_the_port_up_hands_out_is_the_one_each_service_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(API.port_env, "18001")
    monkeypatch.setenv(DISPATCHER.port_env, "18002")
    monkeypatch.setenv(PROJECTOR.port_env, "18003")

    assert ApiSettings().port == 18001
    assert DispatcherSettings().metrics_port == 18002
    assert ProjectorSettings().metrics_port == 18003
    assert parse_args([], {REPLICATE_SIM.port_env: "18004"}).port == 18004
    for component, (name, settings) in zip(WORKERS, WORKER_SETTINGS.values(), strict=True):
        monkeypatch.setenv(component.port_env, "18005")
        assert (component.name, settings().metrics_port) == (name, 18005)


def test_defaults_are_the_services_own(monkeypatch: pytest.MonkeyPatch) -> None:
    for component in (API, DISPATCHER, PROJECTOR, *WORKERS):
        monkeypatch.delenv(component.port_env, raising=False)

    assert API.default_port == ApiSettings().port
    assert DISPATCHER.default_port == DispatcherSettings().metrics_port
    assert PROJECTOR.default_port == ProjectorSettings().metrics_port
    assert REPLICATE_SIM.default_port == parse_args([], {}).port
    assert [c.default_port for c in WORKERS] == [
        s().metrics_port for _, s in WORKER_SETTINGS.values()
    ]


def test_in_a_namespace_each_service_joins_the_group_up_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {"LECTUREGEN_TOPIC_NAMESPACE": "t1."}
    launch = plan_launch(env, is_free=lambda p: True, pick_free=lambda: 1, new_token=lambda: "x")

    def environment_of(component: Component) -> dict[str, str]:
        process_env = launch.process_env(env, component)
        for name, value in process_env.items():
            monkeypatch.setenv(name, value)
        return process_env

    environment_of(DISPATCHER)
    assert DispatcherSettings().group_id == "t1.lecturegen-dispatcher"
    environment_of(PROJECTOR)
    assert ProjectorSettings().group_id == "t1.lecturegen-timeline-projector"
    for component, (kind, (_, settings)) in zip(WORKERS, WORKER_SETTINGS.items(), strict=True):
        process_env = environment_of(component)
        assert component.consumes is not None
        assert settings().group(kind) == component.consumes.group(process_env)
        assert settings().group(kind) == f"t1.lecturegen-{kind.value}-worker"


def test_the_api_and_the_workers_default_to_the_same_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for kind in MediaKind:
        monkeypatch.delenv(f"LECTUREGEN_DEFAULT_MODEL_{kind.value.upper()}", raising=False)
    api = DefaultModels()

    assert {spec.kind: spec.default_model for spec in (IMAGE, NARRATION, VIDEO, MUSIC)} == {
        kind: api.for_kind(kind) for kind in MediaKind
    }


@pytest.mark.parametrize("component", pipeline(with_sim=True), ids=lambda c: c.name)
def test_each_service_s_help_names_the_variable_up_hands_its_port_through(
    component: Component,
) -> None:
    script = Path(sys.executable).with_name(component.script)

    shown = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )

    assert shown.returncode == 0, shown.stderr
    assert component.port_env in shown.stdout
    if component.consumes is not None:
        assert component.consumes.group_env in shown.stdout

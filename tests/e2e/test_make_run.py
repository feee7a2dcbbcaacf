"""The whole pipeline through the `lecturegen` command, as `make run` runs it: `up --detach`,
the demo lecture with its fault directives, a regeneration, a worker killed mid-lecture and
restarted by the supervisor, `status`, and `down` leaving no process behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from lecturegen_cli.processes import group_alive, is_alive
from lecturegen_cli.sse import SseParser
from shared.testing.infra import Endpoint, Source

pytestmark = pytest.mark.e2e

LECTUREGEN = str(Path(sys.executable).with_name("lecturegen"))
PORT_VARIABLES = (
    "LECTUREGEN_API_PORT",
    "REPLICATE_SIM_PORT",
    "LECTUREGEN_DISPATCHER_METRICS_PORT",
    "LECTUREGEN_PROJECTOR_METRICS_PORT",
    "LECTUREGEN_IMAGE_WORKER_METRICS_PORT",
    "LECTUREGEN_AUDIO_WORKER_METRICS_PORT",
    "LECTUREGEN_VIDEO_WORKER_METRICS_PORT",
    "LECTUREGEN_MUSIC_WORKER_METRICS_PORT",
)
INFRA_VARIABLES = {
    # where the local Kafka and PostgreSQL scripts put their services: kept, so `up` finds the
    # same ones the test fixtures started
    "LECTUREGEN_KAFKA_PORT",
    "LECTUREGEN_KAFKA_CONTROLLER_PORT",
    "LECTUREGEN_POSTGRES_PORT",
    "LECTUREGEN_LOCAL_DIR",
    "LECTUREGEN_PG_BIN",
}
TERMINAL = {"generated", "needs_prompt_update", "failed"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Run:
    """One `lecturegen up` of this test: its environment and files."""

    env: dict[str, str]
    run_dir: Path
    log_dir: Path
    infra: bool

    def lecturegen(self, *args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [LECTUREGEN, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.run_dir / "state.json").read_text())
        return data

    def our_processes(self) -> list[tuple[int, int | None]]:
        state = self.state()
        pids = [(state["supervisor_pid"], state["supervisor_ticks"])]
        pids += [(p["pid"], p["start_ticks"]) for p in state["processes"].values() if p["pid"]]
        return pids

    def logs(self) -> str:
        """Every log of the run, for a failure message."""
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(parts)


@pytest.fixture
def run(
    tmp_path: Path,
    kafka_service: Endpoint,
    postgres_service: Endpoint,
    pg_database: str,
    unique_name: str,
) -> Iterator[Run]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k in INFRA_VARIABLES or not k.startswith(("LECTUREGEN_", "MEDIA_"))
    }
    env.pop("REPLICATE_API_TOKEN", None)
    env.pop("REPLICATE_BASE_URL", None)
    env.update({name: str(_free_port()) for name in PORT_VARIABLES})
    env.update(
        LECTUREGEN_RUN_DIR=str(tmp_path / "run"),
        LECTUREGEN_LOG_DIR=str(tmp_path / "logs"),
        LECTUREGEN_BLOB_ROOT=str(tmp_path / "media"),
        LECTUREGEN_TOPIC_NAMESPACE=f"e2e{unique_name}.",
        LECTUREGEN_TOPIC_REQUEST_PARTITIONS="2",
        LECTUREGEN_TOPIC_TIER_PARTITIONS="1",
        LECTUREGEN_TOPIC_EVENTS_PARTITIONS="2",
        KAFKA_BOOTSTRAP_SERVERS=kafka_service.address,
        DATABASE_URL=pg_database,
        MEDIA_GENERATION_RETRY_BASE_DELAY_S="0.5",
        LECTUREGEN_PROVIDER_POLL_INTERVAL_S="0.1",
        LECTUREGEN_IMAGE_WORKER_SESSION_TIMEOUT_MS="6000",
    )
    # `up` starts Kafka and PostgreSQL itself, as `make run` does, when the project's own
    # scripts provide them; services from elsewhere are used as they are.
    local = {kafka_service.source, postgres_service.source} == {Source.LOCAL_SCRIPT}
    the_run = Run(env, tmp_path / "run", tmp_path / "logs", infra=local)
    yield the_run
    if (the_run.run_dir / "state.json").exists():
        leftovers = [p for p in the_run.our_processes() if is_alive(*p)]
        if leftovers:
            the_run.lecturegen("down", "--grace", "5", timeout_s=120)
        for pid, ticks in leftovers:
            if is_alive(pid, ticks):
                os.killpg(pid, signal.SIGKILL)


def test_make_run_end_to_end(run: Run) -> None:
    infra_flag = "--infra" if run.infra else "--no-infra"
    started = run.lecturegen("up", "--detach", infra_flag, "--ready-timeout", "180", timeout_s=400)
    assert started.returncode == 0, started.stdout + started.stderr + run.logs()
    state = run.state()
    api, token = state["api_url"], state["api_token"]
    assert state["phase"] == "ready"
    assert state["provider"] == "replicate-sim"

    demo = run.lecturegen("demo", "--json", "--timeout", "180", timeout_s=240)
    assert demo.returncode == 0, demo.stdout + demo.stderr + run.logs()
    report = json.loads(demo.stdout)
    assets = report["assets"]
    assert len(assets) == 19
    assert {a["status"] for a in assets} <= TERMINAL
    by_scenario: dict[str, list[dict[str, Any]]] = {}
    for asset in assets:
        by_scenario.setdefault(asset["scenario"], []).append(asset)
    recovered = by_scenario["2 transient errors, recovers"]
    assert [(a["status"], a["attempts"]) for a in recovered] == [("generated", 3)] * 2
    (rate_limited,) = by_scenario["429, recovers"]
    assert (rate_limited["status"], rate_limited["attempts"]) == ("generated", 2)
    (sensitive,) = by_scenario["flagged sensitive"]
    assert sensitive["status"] == "needs_prompt_update"
    assert (sensitive["error_code"], sensitive["attempts"]) == ("SENSITIVE_CONTENT", 1)
    (exhausted,) = by_scenario["retries exhausted"]
    assert exhausted["status"] == "failed"
    assert (exhausted["error_code"], exhausted["attempts"]) == ("TRANSIENT_PROVIDER_ERROR", 4)
    assert {a["status"] for a in by_scenario[""]} == {"generated"}

    status = run.lecturegen("status", "--json", timeout_s=60)
    assert status.returncode == 0, status.stdout + status.stderr
    components = {c["name"]: c for c in json.loads(status.stdout)["components"]}
    assert {c["state"] for c in components.values()} == {"running"}
    for consumer in ("dispatcher", "timeline-projector", "image-worker", "music-worker"):
        assert isinstance(components[consumer]["lag"], int), components[consumer]

    dead = run.lecturegen("dlt", "show", "--json", timeout_s=60)
    assert dead.returncode == 0, dead.stdout + dead.stderr
    assert [(d["asset_id"], d["reason"]) for d in json.loads(dead.stdout)] == [
        (exhausted["asset_id"], "exhausted")
    ]

    rebuilt = run.lecturegen("projector", "rebuild", timeout_s=180)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "views now read generation 2" in rebuilt.stdout

    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}) as client:
        _regenerate_with_a_clean_prompt(client, token, report["lecture_id"], sensitive)
        _kill_a_worker_during_a_lecture(client, token, run)

    before = run.our_processes()
    stopped = run.lecturegen("down", timeout_s=120)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert [p for p in before if is_alive(*p)] == []
    assert [pid for pid, _ in before[1:] if group_alive(pid)] == []
    assert run.state()["phase"] == "stopped"


def _regenerate_with_a_clean_prompt(
    client: httpx.Client, token: str, lecture_id: str, sensitive: dict[str, Any]
) -> None:
    asset_id = sensitive["asset_id"]
    response = client.post(
        f"/v1/assets/{asset_id}/regenerate",
        json={"prompt": "a giant glass Fresnel lens in a museum, soft daylight"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["prompt_version"] == 2
    seen = _follow(
        client,
        token,
        lecture_id,
        until=lambda event, data: (
            event == "asset.generated"
            and data.get("asset_id") == asset_id
            and data.get("prompt_version") == 2
        ),
        timeout_s=60,
    )
    assert seen, "the regenerated asset never showed up as generated on the SSE stream"
    asset = client.get(f"/v1/assets/{asset_id}").json()
    assert (asset["status"], asset["prompt_version"]) == ("generated", 2)


def _kill_a_worker_during_a_lecture(client: httpx.Client, token: str, run: Run) -> None:
    tag = os.urandom(3).hex()
    segments = [
        {
            "segment_id": f"k{i}",
            "duration_s": 4,
            "image": {"prompt": f"harbour at dawn, plate {i} [[sim:latency=2]] ({tag})"},
        }
        for i in range(6)
    ]
    response = client.post("/v1/lectures", json={"title": f"kill {tag}", "segments": segments})
    assert response.status_code == 202, response.text
    lecture_id = response.json()["lecture_id"]
    started = _follow(
        client,
        token,
        lecture_id,
        until=lambda event, data: event == "asset.attempt-started",
        timeout_s=60,
    )
    assert started, "no image attempt started"

    victim = run.state()["processes"]["image-worker"]
    os.kill(victim["pid"], signal.SIGKILL)
    _wait(lambda: _restarted(run, victim["pid"]), timeout_s=30, what="the image worker restart")
    supervisor_log = (run.log_dir / "supervisor.log").read_text()
    assert "restarted image-worker (exit -9)" in supervisor_log

    def all_generated() -> bool:
        listed = client.get(f"/v1/lectures/{lecture_id}/assets")
        statuses = [a["status"] for a in listed.json()["assets"]] if listed.is_success else []
        assert not set(statuses) & {"failed", "needs_prompt_update"}, statuses
        return statuses == ["generated"] * len(segments)

    _wait(all_generated, timeout_s=120, what="the lecture to complete after the kill")


def _restarted(run: Run, old_pid: int) -> bool:
    worker = run.state()["processes"]["image-worker"]
    return worker["state"] == "running" and worker["restarts"] >= 1 and worker["pid"] != old_pid


def _follow(client, token, lecture_id, *, until, timeout_s: float) -> bool:
    """Read the lecture's SSE stream from its start until `until(event, data)` holds."""
    deadline = time.monotonic() + timeout_s
    last_id = None
    while time.monotonic() < deadline:
        headers = {"Last-Event-ID": last_id} if last_id else {}
        try:
            with client.stream(
                "GET",
                f"/v1/lectures/{lecture_id}/events",
                params={"access_token": token},
                headers=headers,
                timeout=httpx.Timeout(10.0, read=max(1.0, deadline - time.monotonic())),
            ) as stream:
                if stream.status_code == 404:  # not projected yet
                    time.sleep(0.2)
                    continue
                parser = SseParser(last_id)
                for line in stream.iter_lines():
                    message = parser.feed(line)
                    if message is None:
                        continue
                    last_id = parser.last_event_id
                    if until(message.event, json.loads(message.data)):
                        return True
                    if time.monotonic() > deadline:
                        return False
        except httpx.ReadTimeout:
            return False
    return False


def _wait(condition, *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_ctrl_c_during_the_demo_stops_everything_make_run_started(run: Run) -> None:
    infra_flag = "--infra" if run.infra else "--no-infra"
    out = run.log_dir.parent / "up.out"
    run.log_dir.mkdir(parents=True, exist_ok=True)
    with out.open("w") as sink:
        up = subprocess.Popen(
            [LECTUREGEN, "up", "--demo", infra_flag],
            env=run.env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in a terminal reaches the foreground group only
        )
    try:
        _wait(
            lambda: "submitted lecture" in out.read_text() or up.poll() is not None,
            timeout_s=300,
            what="the demo to start",
        )
        assert up.poll() is None, out.read_text()
        ours = run.our_processes()
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=120) == 0, out.read_text()
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert "stopped" in out.read_text().splitlines()[-1]
    assert [p for p in ours if is_alive(*p)] == []
    assert run.state()["phase"] == "stopped"

"""`lecturegen up --scale image-worker=3` (with two dispatchers and two projectors): three
image worker processes share one consumer group; one killed (SIGKILL) with calls in flight loses
nothing and costs no second create, because the group hands its partitions on and the new owner
resumes the saved predictions."""

from __future__ import annotations

import json
import os
import re
import signal
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from tests.e2e.conftest import LocalRun

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

IMAGES = 30
LATENCY = "[[sim:latency=6]]"
IN_FLIGHT = re.compile(
    r'^lecturegen_worker_provider_calls_in_flight\{medium="image"\} (\S+)$', re.M
)


def _in_flight(port: int) -> int:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    match = IN_FLIGHT.search(text)
    return int(float(match.group(1))) if match else 0


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


def test_a_replica_killed_under_load_loses_nothing_and_creates_nothing_twice(
    local_run: LocalRun,
) -> None:
    local_run.env["LECTUREGEN_IMAGE_WORKER_SESSION_TIMEOUT_MS"] = "6000"
    # the dispatcher and the projector scale the same way: two each, on the event log's two
    # partitions, feed and project the lecture
    scale = ("image-worker=3", "dispatcher=2", "timeline-projector=2")
    supervisor = local_run.up(*(arg for value in scale for arg in ("--scale", value)))
    local_run.wait_ready(supervisor)

    status = json.loads(local_run.lecturegen("status", "--json", timeout_s=60).stdout)
    replicas = {c["name"]: c for c in status["components"] if c["name"].startswith("image-")}
    assert {n: c["replica"] for n, c in replicas.items()} == {
        "image-worker": "1/3",
        "image-worker-2": "2/3",
        "image-worker-3": "3/3",
    }
    assert {c["state"] for c in replicas.values()} == {"running"}
    others = {c["name"]: c["replica"] for c in status["components"] if c["replica"]}
    assert others.keys() >= {"dispatcher-2", "timeline-projector-2"}

    tag = uuid.uuid4().hex[:8]
    body = {
        "title": f"Scaled out {tag}",
        "segments": [
            {"duration_s": 4, "image": {"prompt": f"{LATENCY} harbour {i} at dawn ({tag})"}}
            for i in range(IMAGES)
        ],
    }
    with local_run.api() as api:
        accepted = api.post("/v1/lectures", json=body)
    assert accepted.status_code == 202, accepted.text
    lecture_id = accepted.json()["lecture_id"]

    local_run.wait_for("every create", lambda: local_run.sim_creates(tag) == IMAGES, 60)
    ports = local_run.state()["ports"]
    load = {name: _in_flight(ports[name]) for name in replicas}
    victim = max(load, key=lambda name: load[name])
    assert load[victim] > 0, load
    victim_pid = local_run.state()["processes"][victim]["pid"]
    os.kill(victim_pid, signal.SIGKILL)

    assets = local_run.wait_terminal(lecture_id, IMAGES, timeout_s=120)

    assert [a["status"] for a in assets] == ["generated"] * IMAGES
    assert local_run.sim_creates(tag) == IMAGES, "a request was created twice at the provider"
    processes = local_run.state()["processes"]
    assert processes[victim]["restarts"] == 1
    assert processes[victim]["pid"] not in (None, victim_pid)
    restarted_port = ports[victim]
    local_run.wait_for("the restarted replica to serve", lambda: _answers(restarted_port), 60)
    resumed = sum(
        float(m.group(1))
        for name in replicas
        for m in re.finditer(
            r"^lecturegen_worker_predictions_resumed_total\{[^}]*\} (\S+)$",
            httpx.get(f"http://127.0.0.1:{ports[name]}/metrics", timeout=5).text,
            re.M,
        )
    )
    assert resumed >= load[victim], (resumed, load)  # handed on, polled rather than created

    def group_caught_up() -> bool:
        rows = json.loads(local_run.lecturegen("status", "--json", timeout_s=60).stdout)
        lags = [c["lag"] for c in rows["components"] if c["name"].startswith("image-worker")]
        return lags == [0, 0, 0]

    local_run.wait_for("the image group to commit every request", group_caught_up, 60)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=150) == 0

"""The whole pipeline through the `lecturegen` command, as `make run` runs it: `up --detach`,
the demo lecture with its fault directives, a regeneration, a worker killed mid-lecture and
restarted by the supervisor, `status`, and `down` leaving no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

import httpx
import pytest

from lecturegen_cli.processes import group_alive, is_alive
from lecturegen_cli.sse import SseParser
from lecturegen_cli.stack.private_run import LECTUREGEN, PrivateRun
from shared.status import TERMINAL_STATUSES

pytestmark = pytest.mark.e2e


def test_make_run_end_to_end(run: PrivateRun) -> None:
    started = run.start()
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
    assert {a["status"] for a in assets} <= TERMINAL_STATUSES
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

    before = run.processes()
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


def _kill_a_worker_during_a_lecture(client: httpx.Client, token: str, run: PrivateRun) -> None:
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


def _restarted(run: PrivateRun, old_pid: int) -> bool:
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


def test_ctrl_c_during_the_demo_stops_everything_make_run_started(run: PrivateRun) -> None:
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
        ours = run.processes()
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=120) == 0, out.read_text()
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert "stopped" in out.read_text().splitlines()[-1]
    assert [p for p in ours if is_alive(*p)] == []
    assert run.state()["phase"] == "stopped"

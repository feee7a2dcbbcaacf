"""The dashboard and the alerts of deploy/ on a real Prometheus (Debian's package, 2.42)
scraping the processes `lecturegen up` runs: every dashboard query answers with data, the
dead-letter alert fires on the first dead letter of a medium, and promtool accepts the rules.

Prometheus is installed by `deploy/local/prometheus.sh install` (apt-get when root), run with
a private configuration derived from deploy/prometheus/prometheus.yml (same jobs, the run's
ports, 1 s intervals) and its data under the checkout's `.local/`.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml  # type: ignore[import-untyped]

from lecturegen_cli.stack.private_run import PrivateRun
from shared.testing.infra import find_repo_root

pytestmark = pytest.mark.e2e

REPO = find_repo_root()
DEPLOY = REPO / "deploy"
DEAD_LETTER_ALERT = "LecturegenDeadLetterWritten"
LECTURE = {
    "title": "Metrics",
    "segments": [
        {
            "duration_s": 2,
            "image": {"prompt": "a tide pool [[sim:model-error]]"},
            "narration": {"text": "Tide pools hold small worlds."},
            "video": {"prompt": "waves over rocks"},
        },
        {"duration_s": 2, "image": {"prompt": "a starfish [[sim:transient x1]]"}},
    ],
    "music": {"prompt": "calm strings"},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def promtool() -> str:
    installed = subprocess.run(
        [str(DEPLOY / "local" / "prometheus.sh"), "install"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    found = shutil.which("promtool")
    assert found, "deploy/local/prometheus.sh install did not provide promtool"
    return found


def test_promtool_accepts_the_alert_rules(promtool: str) -> None:
    checked = subprocess.run(
        [promtool, "check", "rules", str(DEPLOY / "prometheus" / "alerts.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_circuit_alert_fires_only_while_a_circuit_stays_open(promtool: str) -> None:
    tested = subprocess.run(
        [promtool, "test", "rules", str(DEPLOY / "prometheus" / "alerts.test.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.fixture
def stack(run: PrivateRun) -> Iterator[PrivateRun]:
    started = run.start()
    assert started.returncode == 0, started.stdout + started.stderr + run.logs()
    try:
        yield run
    finally:
        run.lecturegen("down", timeout_s=120)


@pytest.fixture
def prometheus(stack: PrivateRun, promtool: str, tmp_path: Path) -> Iterator[httpx.Client]:
    config = _scrape_config(stack.state())
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    data_dir = REPO / ".local" / f"test-prometheus-{uuid.uuid4().hex[:8]}"
    port = _free_port()
    log_path = tmp_path / "prometheus.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                str(Path(promtool).with_name("prometheus")),
                f"--config.file={config_path}",
                f"--storage.tsdb.path={data_dir}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            _until(lambda: _ready(client), 60, lambda: log_path.read_text()[-2000:])
            yield client
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def test_every_dashboard_query_answers_and_the_first_dead_letter_fires_its_alert(
    stack: PrivateRun, prometheus: httpx.Client
) -> None:
    jobs = len(_scrape_config(stack.state())["scrape_configs"])
    _until(
        lambda: _value(prometheus, "count(up == 1)") == jobs,
        60,
        lambda: _query(prometheus, "up"),
    )
    dead_letters = 'lecturegen_worker_dead_letters_total{medium="image", reason="failed"}'
    assert _value(prometheus, dead_letters) == 0.0, "the dead-letter counter is not there at zero"

    state = stack.state()
    headers = {"Authorization": f"Bearer {state['api_token']}"}
    with httpx.Client(base_url=state["api_url"], headers=headers, timeout=30) as api:
        accepted = api.post("/v1/lectures", json=LECTURE)
        assert accepted.status_code == 202, accepted.text
        lecture_id = accepted.json()["lecture_id"]
        _until(
            lambda: _all_terminal(api, lecture_id),
            120,
            lambda: api.get(f"/v1/lectures/{lecture_id}").text,
        )

    alert = _alert_expression(DEAD_LETTER_ALERT)
    _until(lambda: _query(prometheus, alert), 60, lambda: _query(prometheus, dead_letters))
    [fired] = _query(prometheus, alert)
    assert fired["metric"] == {"medium": "image", "reason": "failed"}
    firing = f'ALERTS{{alertname="{DEAD_LETTER_ALERT}", alertstate="firing"}}'
    _until(lambda: _query(prometheus, firing), 30, lambda: _query(prometheus, "ALERTS"))

    empty: list[str] = []
    for title, expr in _dashboard_queries():
        query = expr.replace("$__rate_interval", "1m")
        if not _query(prometheus, query):
            empty.append(f"{title}: {query}")
    assert empty == [], "dashboard queries without data:\n" + "\n".join(empty)


def _scrape_config(state: dict[str, Any]) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml with the run's ports and 1 s intervals."""
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(DEPLOY / "prometheus" / "alerts.yml")]
    processes = state["processes"]
    for job in config["scrape_configs"]:
        [static] = job["static_configs"]
        address = processes[static["labels"]["component"]]["address"]
        static["targets"] = [urlsplit(address).netloc]
    return config


def _dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "lecturegen.json").read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def _alert_expression(name: str) -> str:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    expression: str = next(
        rule["expr"]
        for group in rules["groups"]
        for rule in group["rules"]
        if rule.get("alert") == name
    )
    return expression


def _query(prometheus: httpx.Client, expr: str) -> list[dict[str, Any]]:
    answer = prometheus.get("/api/v1/query", params={"query": expr})
    assert answer.status_code == 200, (expr, answer.text)
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


def _value(prometheus: httpx.Client, expr: str) -> float | None:
    result = _query(prometheus, expr)
    return float(result[0]["value"][1]) if result else None


def _ready(client: httpx.Client) -> bool:
    try:
        return client.get("/-/ready").status_code == 200
    except httpx.TransportError:
        return False


def _all_terminal(api: httpx.Client, lecture_id: str) -> bool:
    answer = api.get(f"/v1/lectures/{lecture_id}")
    if answer.status_code != 200:
        return False
    counts = answer.json()["counts"]
    return bool(counts["pending"] == 0 and counts["retrying"] == 0)


def _until(condition: Any, within_s: float, explain: Any) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within_s} s: {explain()}")
        time.sleep(0.5)

"""`lecturegen redrive` through the real processes `lecturegen up` runs, the fleet-wide breaker
among them: after N assets failed (transient errors outlasting their retries), a redrive
brings all N to `generated` as a new prompt version; running it again makes no version;
other assets are left alone."""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from typing import Any

import httpx
import pytest

from lecturegen_cli.stack.private_run import PrivateRun

pytestmark = pytest.mark.e2e

FAILING = 3
"""Each fails its 4 attempts (`x4`), then succeeds: the redriven version's first attempt."""
LECTURE = {
    "title": "Redrive",
    "segments": [
        *(
            {"duration_s": 2, "image": {"prompt": f"a harbour, view {n} [[sim:transient x4]]"}}
            for n in range(FAILING)
        ),
        {"duration_s": 2, "image": {"prompt": "a gull [[sim:sensitive]]"}},
        {"duration_s": 2, "narration": {"text": "Harbours never sleep."}},
    ],
}


def test_redrive_brings_every_failed_asset_to_generated_and_again_adds_no_version(
    run: PrivateRun,
) -> None:
    # The breaker runs with its defaults: three assets failing four times each are three
    # failing assets, not an outage (decision 0019), so they spend their retries and fail.
    started = run.start()
    assert started.returncode == 0, started.stdout + started.stderr + run.logs()
    try:
        state = run.state()
        headers = {"Authorization": f"Bearer {state['api_token']}"}
        with httpx.Client(base_url=state["api_url"], headers=headers, timeout=30) as api:
            lecture_id = api.post("/v1/lectures", json=LECTURE).json()["lecture_id"]
            before = _until_settled(api, lecture_id)
            failed = {a["asset_id"] for a in before if a["status"] == "failed"}
            assert len(failed) == FAILING, before

            dry = _redrive(run, "--lecture", lecture_id, "--dry-run")
            assert {a["asset_id"] for a in dry["assets"]} == failed
            assert _versions(api, lecture_id) == _versions_of(before)
            dead = _redrive(
                run, "--lecture", lecture_id, "--from-dlt", "--kind", "image", "--dry-run"
            )
            assert {a["asset_id"] for a in dead["assets"]} == failed  # retries exhausted: DLT

            first = _redrive(run, "--lecture", lecture_id, "--code", "TRANSIENT_PROVIDER_ERROR")
            assert (first["matched"], first["requested"], first["error"]) == (FAILING, FAILING, 0)
            after = _until_settled(api, lecture_id, redriven=failed)
            for asset in after:
                if asset["asset_id"] in failed:
                    assert (asset["status"], asset["prompt_version"]) == ("generated", 2)
            others = [a["prompt_version"] for a in after if a["asset_id"] not in failed]
            assert set(others) == {1}, "a redrive of failed assets touched others"

            again = _redrive(run, "--lecture", lecture_id, "--code", "TRANSIENT_PROVIDER_ERROR")
            assert again["matched"] == 0
            time.sleep(2)  # anything it had asked for would show up by now
            assert _versions(api, lecture_id) == _versions_of(after)
    finally:
        run.lecturegen("down", timeout_s=120)


def _redrive(the_run: PrivateRun, *args: str) -> dict[str, Any]:
    done = the_run.lecturegen("redrive", "--json", *args, timeout_s=120)
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _until_settled(
    api: httpx.Client, lecture_id: str, redriven: Collection[str] = (), within_s: float = 120
) -> list[dict[str, Any]]:
    """The lecture's assets once each is terminal (the redriven ones at a version above 1)."""
    deadline = time.monotonic() + within_s
    while True:
        answer = api.get(f"/v1/lectures/{lecture_id}/assets")
        if answer.status_code == 200:
            assets: list[dict[str, Any]] = answer.json()["assets"]
            if all(_settled(a, redriven) for a in assets):
                return assets
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.5)


def _settled(asset: dict[str, Any], redriven: Collection[str]) -> bool:
    terminal = asset["status"] in ("generated", "failed", "needs_prompt_update")
    return terminal and (asset["asset_id"] not in redriven or asset["prompt_version"] > 1)


def _versions(api: httpx.Client, lecture_id: str) -> dict[str, int]:
    return _versions_of(api.get(f"/v1/lectures/{lecture_id}/assets").json()["assets"])


def _versions_of(assets: list[dict[str, Any]]) -> dict[str, int]:
    return {a["asset_id"]: a["prompt_version"] for a in assets}

"""Provider-wide faults (DESIGN §8, second round): `/sim/faults` outages and throttles, as the
real `replicate` client and plain HTTP meet them, and `/sim/stats`'s `served` counts."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import replicate
from replicate.exceptions import ReplicateError

FLUX = "black-forest-labs/flux-schnell"
CREATE = f"/v1/models/{FLUX}/predictions"


async def _served(http: httpx.AsyncClient) -> dict[str, int]:
    served: dict[str, int] = (await http.get("/sim/stats")).json()["served"]
    return served


async def test_an_outage_answers_creates_and_reads_503_in_replicates_words(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    before = (await http.post(CREATE, json={"input": {"prompt": "before the storm"}})).json()
    started = await http.post("/sim/faults", json={"mode": "outage", "for_s": 30})
    assert started.status_code == 201
    with pytest.raises(ReplicateError) as raised:
        await client.models.predictions.async_create(model=FLUX, input={"prompt": "in the storm"})
    assert (raised.value.status, raised.value.title) == (503, "Service Unavailable")
    read = await http.get(f"/v1/predictions/{before['id']}")
    assert read.status_code == 503
    assert read.headers["content-type"] == "application/problem+json"
    assert read.json() == {
        "title": "Service Unavailable",
        "detail": "Service is temporarily unavailable.",
        "status": 503,
    }
    assert (await http.get(f"/v1/models/{FLUX}")).status_code == 200  # not a prediction call
    assert await _served(http) == {"creates": 2, "reads": 2, "throttled": 0, "unavailable": 2}


async def test_a_prediction_that_would_finish_during_an_outage_fails_with_e004(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    slow = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "caught out [[sim:latency=0.4]]"}
    )
    await http.post("/sim/faults", json={"mode": "outage", "for_s": 0.6})
    await asyncio.sleep(0.7)
    # the outage is over: the client reads the prediction, which ended while it lasted
    await slow.async_wait()
    assert slow.status == "failed"
    assert slow.error == "Service is temporarily unavailable. Please try again later. (E004)"
    after = await client.async_run(FLUX, input={"prompt": "after the storm"})
    assert isinstance(after, list)
    assert len(after) == 1


async def test_the_client_rides_out_a_short_outage_on_reads_it_retries_itself(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    prediction = await client.models.predictions.async_create(
        model=FLUX, input={"prompt": "patient reader [[sim:latency=0.2]]"}
    )
    await asyncio.sleep(0.3)  # finished before the outage
    await http.post("/sim/faults", json={"mode": "outage", "for_s": 0.5})
    await prediction.async_reload()  # 503s are retried by the client until the outage ends
    assert prediction.status == "succeeded"
    assert (await _served(http))["unavailable"] >= 1


async def test_a_throttle_answers_429_with_a_numeric_retry_after_once_its_burst_is_spent(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    fault = {"mode": "throttle", "creates_per_min": 6, "reads_per_min": 600, "burst_s": 20}
    await http.post("/sim/faults", json=fault)
    for n in range(2):
        await client.models.predictions.async_create(model=FLUX, input={"prompt": f"ok {n}"})
    with pytest.raises(ReplicateError) as raised:
        await client.models.predictions.async_create(model=FLUX, input={"prompt": "one too many"})
    assert raised.value.status == 429
    assert raised.value.detail == "Request was throttled. Your rate limit resets in ~10s."
    answer = await http.post(CREATE, json={"input": {"prompt": "and another"}})
    assert answer.status_code == 429
    assert answer.json() == {
        "detail": "Request was throttled. Your rate limit resets in ~10s.",
        "status": 429,
        "retry_after": 10,
    }
    assert (answer.headers["retry-after"], answer.headers["ratelimit-remaining"]) == ("10", "0")
    # reads have their own budget, and say what is left of it
    read = await http.get("/v1/predictions/unknown")
    assert (read.status_code, read.headers["ratelimit-remaining"]) == (404, "199")
    assert (await http.get("/sim/stats")).json()["total_creates"] == 4
    assert await _served(http) == {"creates": 4, "reads": 1, "throttled": 2, "unavailable": 0}


async def test_a_throttle_limits_reads_of_every_kind(http: httpx.AsyncClient) -> None:
    fault = {"mode": "throttle", "creates_per_min": 600, "reads_per_min": 6, "burst_s": 10}
    await http.post("/sim/faults", json=fault)
    assert (await http.get(f"/v1/models/{FLUX}")).status_code == 200
    throttled = await http.get("/v1/webhooks/default/secret")
    assert (throttled.status_code, throttled.json()["retry_after"]) == (429, 10)
    assert (await http.get("/v1/predictions/whatever")).status_code == 429
    assert (await http.post(CREATE, json={"input": {"prompt": "creates pass"}})).status_code == 201


async def test_faults_are_listed_and_ended_together(http: httpx.AsyncClient) -> None:
    await http.post("/sim/faults", json={"mode": "outage", "for_s": 60})
    await http.post(
        "/sim/faults", json={"mode": "throttle", "creates_per_min": 1, "reads_per_min": 1}
    )
    listed = (await http.get("/sim/faults")).json()["faults"]
    assert [fault["mode"] for fault in listed] == ["outage", "throttle"]
    assert (listed[1]["creates_per_min"], listed[1]["reads_per_min"]) == (1, 1)
    assert (await http.delete("/sim/faults")).json() == {"faults": []}
    assert (await http.get("/sim/faults")).json() == {"faults": []}
    assert (await http.post(CREATE, json={"input": {"prompt": "back"}})).status_code == 201


async def test_a_reset_ends_the_faults_and_forgets_the_served_counts(
    http: httpx.AsyncClient,
) -> None:
    await http.post("/sim/faults", json={"mode": "outage", "for_s": 60})
    await http.post(CREATE, json={"input": {"prompt": "down"}})
    await http.post("/sim/reset")
    assert (await http.get("/sim/faults")).json() == {"faults": []}
    assert await _served(http) == {"creates": 0, "reads": 0, "throttled": 0, "unavailable": 0}


@pytest.mark.parametrize(
    "body",
    [
        {"mode": "outage"},
        {"mode": "outage", "for_s": -1},
        {"mode": "throttle", "creates_per_min": 60},
        {"mode": "flood", "for_s": 1},
    ],
)
async def test_a_fault_that_cannot_be_understood_is_a_422(
    http: httpx.AsyncClient, body: dict[str, object]
) -> None:
    answer = await http.post("/sim/faults", json=body)
    assert answer.status_code == 422
    assert (await http.get("/sim/faults")).json() == {"faults": []}

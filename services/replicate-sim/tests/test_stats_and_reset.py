"""`/sim/stats` counts create calls per exact input; `/sim/reset` forgets everything."""

from __future__ import annotations

import httpx
import pytest
import replicate
from replicate.exceptions import ModelError, ReplicateError

from replicate_sim.inputs import input_key

FLUX = "black-forest-labs/flux-schnell"


async def test_every_create_is_counted_per_exact_input(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    payload = {"prompt": "a counted cat", "seed": 1}
    for _ in range(2):
        await client.models.predictions.async_create(model=FLUX, input=payload)
    await client.models.predictions.async_create(model=FLUX, input={"prompt": "a counted cat"})
    stats = (await http.get("/sim/stats")).json()
    assert stats["total_creates"] == 3
    entry = stats["inputs"][input_key(payload)]
    assert entry == {
        "key": input_key(payload),
        "text": "a counted cat",
        "model": FLUX,
        "input": payload,
        "creates": 2,
    }


async def test_the_key_ignores_the_order_of_the_inputs_keys(http: httpx.AsyncClient) -> None:
    path = f"/v1/models/{FLUX}/predictions"
    await http.post(path, content=b'{"input": {"prompt": "order", "seed": 2}}')
    await http.post(path, content=b'{"input": {"seed": 2, "prompt": "order"}}')
    inputs = (await http.get("/sim/stats", params={"contains": "order"})).json()["inputs"]
    assert [entry["creates"] for entry in inputs.values()] == [2]


async def test_rejected_creates_are_counted_too(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    with pytest.raises(ReplicateError):
        await client.async_run(FLUX, input={"prompt": "nope [[sim:invalid-input]]"})
    with pytest.raises(ModelError):
        await client.async_run(FLUX, input={"prompt": "never [[sim:sensitive]]"})
    with pytest.raises(ReplicateError):
        await client.async_run("nobody/nothing", input={"prompt": "nowhere"})
    stats = (await http.get("/sim/stats")).json()
    counts = {entry["text"]: entry["creates"] for entry in stats["inputs"].values()}
    assert counts == {
        "nope [[sim:invalid-input]]": 1,
        "never [[sim:sensitive]]": 1,
        "nowhere": 1,
    }


async def test_stats_can_be_filtered_by_a_piece_of_the_text(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    await client.models.predictions.async_create(model=FLUX, input={"prompt": "red fox"})
    await client.models.predictions.async_create(
        model="minimax/speech-02-turbo", input={"text": "the red fox says hi"}
    )
    await client.models.predictions.async_create(model=FLUX, input={"prompt": "blue jay"})
    fox = (await http.get("/sim/stats", params={"contains": "red fox"})).json()
    assert fox["total_creates"] == 2
    assert len(fox["inputs"]) == 2


async def test_reset_forgets_counts_predictions_and_fault_turns(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    payload = {"prompt": "again [[sim:transient x1]]"}
    with pytest.raises(ModelError):
        await client.async_run(FLUX, input=payload)
    prediction = await client.models.predictions.async_create(model=FLUX, input={"prompt": "p"})
    assert (await http.post("/sim/reset")).json() == {"reset": True}
    assert (await http.get("/sim/stats")).json() == {
        "total_creates": 0,
        "inputs": {},
        "served": {"creates": 0, "reads": 0, "throttled": 0, "unavailable": 0},
    }
    assert (await http.get(f"/v1/predictions/{prediction.id}")).status_code == 404
    with pytest.raises(ModelError):
        await client.async_run(FLUX, input=payload)


async def test_health_is_ok(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}

"""Reading a prediction within a bound, the one way every wait (polling or webhook) reads one.

The `replicate` client retries a 5xx answer to a read for up to about half a minute, so a
prediction in flight when an outage begins would hide the outage that long. A read not answered
within `READ_PATIENCE_S` counts as the provider being unavailable instead (decision 0019), so
the outage shows in the event log, and to the circuit breaker, within seconds.
"""

from __future__ import annotations

import asyncio

from replicate.client import Client
from replicate.exceptions import ReplicateError
from replicate.prediction import Prediction

READ_PATIENCE_S = 6.0
"""How long one read of a running prediction may take, the client's retries of 5xx answers
included, before the provider counts as unavailable for this attempt."""


async def read_prediction(client: Client, prediction_id: str) -> Prediction:
    """Read the prediction once; a provider that does not answer within `READ_PATIENCE_S`
    raises a 503 `ReplicateError` (unavailable: the attempt fails as transient and the next
    one resumes the same prediction)."""
    try:
        async with asyncio.timeout(READ_PATIENCE_S):
            return await client.predictions.async_get(prediction_id)
    except TimeoutError:
        detail = f"Replicate did not answer a read of {prediction_id} in {READ_PATIENCE_S:g}s."
        raise ReplicateError(title="Service Unavailable", status=503, detail=detail) from None

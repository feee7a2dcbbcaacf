from __future__ import annotations

import asyncio

import httpx
import pytest
from replicate.exceptions import ReplicateError

from shared.providers.client import (
    close_replicate_client,
    forget_retry_after,
    last_rate_hints,
    last_retry_after,
    replicate_client,
)
from shared.settings import ProviderSettings


def throttle(request: httpx.Request) -> httpx.Response:
    wait = request.url.params["wait"]
    return httpx.Response(429, headers={"Retry-After": wait}, json={"detail": "throttled"})


async def test_the_client_carries_token_and_base_url_from_the_settings() -> None:
    settings = ProviderSettings(api_token="r8_secret_token_value", base_url="http://127.0.0.1:1")
    client = replicate_client(settings)
    try:
        http = client._async_client
        assert str(http.base_url) == "http://127.0.0.1:1"
        assert http.headers["Authorization"] == "Bearer r8_secret_token_value"
    finally:
        await close_replicate_client(client)
    assert client._async_client.is_closed


async def test_each_task_sees_only_the_retry_after_of_its_own_answers() -> None:
    settings = ProviderSettings(api_token="t", base_url="https://api.replicate.test")
    client = replicate_client(settings, transport=httpx.MockTransport(throttle))

    async def create(wait: str) -> str | None:
        forget_retry_after()
        with pytest.raises(ReplicateError):
            await client._async_request("POST", "/v1/predictions", params={"wait": wait})
        await asyncio.sleep(0)  # let the other task answer in between
        return last_retry_after()

    try:
        assert list(await asyncio.gather(create("3"), create("11"))) == ["3", "11"]
    finally:
        await close_replicate_client(client)


def throttle_with_body(request: httpx.Request) -> httpx.Response:
    body = {"detail": "Request was throttled.", "status": 429, "retry_after": 9}
    return httpx.Response(429, headers={"ratelimit-remaining": "0"}, json=body)


async def test_the_client_remembers_the_body_retry_after_of_a_throttled_answer() -> None:
    settings = ProviderSettings(api_token="t", base_url="https://api.replicate.test")
    client = replicate_client(settings, transport=httpx.MockTransport(throttle_with_body))
    try:
        forget_retry_after()
        with pytest.raises(ReplicateError) as raised:
            await client._async_request("POST", "/v1/predictions")
        hints = last_rate_hints()
        assert hints is not None
        assert (hints.retry_after_body, hints.remaining) == (9.0, 0)
        assert raised.value.detail == "Request was throttled."  # the client still reads the body
    finally:
        await close_replicate_client(client)

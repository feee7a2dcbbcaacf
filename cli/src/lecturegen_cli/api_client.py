"""The few calls of the lecturegen HTTP API the command makes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from lecturegen_cli.sse import SseMessage, SseParser


class ApiError(RuntimeError):
    """The API answered with an error; the message carries its problem detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status


class LectureApi:
    """A client of one API base URL with one bearer token; the caller owns `client`."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, token: str) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._token = token
        self._auth = {"Authorization": f"Bearer {token}"}

    @property
    def base_url(self) -> str:
        return self._base

    async def ready(self) -> bool:
        """Whether `/readyz` says the API can reach Kafka and PostgreSQL."""
        try:
            response = await self._client.get(f"{self._base}/readyz", timeout=3.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def create_lecture(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/v1/lectures", json=body)

    async def lecture_assets(self, lecture_id: str) -> list[dict[str, Any]]:
        data = await self._call("GET", f"/v1/lectures/{lecture_id}/assets")
        assets: list[dict[str, Any]] = data["assets"]
        return assets

    async def asset(self, asset_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/v1/assets/{asset_id}")

    async def regenerate(self, asset_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", f"/v1/assets/{asset_id}/regenerate", json=body)

    async def regenerate_once(
        self, asset_id: str, body: dict[str, Any], key: str
    ) -> tuple[dict[str, Any], bool]:
        """Regenerate with an `Idempotency-Key`; also whether the API answered from an earlier
        request with the same key (no new version)."""
        response = await self._client.post(
            f"{self._base}/v1/assets/{asset_id}/regenerate",
            json=body,
            headers={**self._auth, "Idempotency-Key": key},
            timeout=30.0,
        )
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        data: dict[str, Any] = response.json()
        return data, response.headers.get("Idempotent-Replayed") == "true"

    async def events(
        self, lecture_id: str, last_event_id: str | None = None
    ) -> AsyncIterator[SseMessage]:
        """The lecture's SSE stream, from after `last_event_id`; ends when the server closes it."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        async with self._client.stream(
            "GET",
            f"{self._base}/v1/lectures/{lecture_id}/events",
            params={"access_token": self._token},
            headers=headers,
            timeout=httpx.Timeout(10.0, read=None),
        ) as response:
            if response.status_code != 200:
                await response.aread()
                raise ApiError(response.status_code, _detail(response))
            parser = SseParser(last_event_id)
            async for line in response.aiter_lines():
                message = parser.feed(line)
                if message is not None:
                    yield message

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._client.request(
            method, f"{self._base}{path}", headers=self._auth, timeout=30.0, **kwargs
        )
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        data: dict[str, Any] = response.json()
        return data


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)
    return str(body)

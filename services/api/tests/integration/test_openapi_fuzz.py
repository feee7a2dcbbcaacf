"""Generated requests from the OpenAPI document (schemathesis): never a 5xx, and every error
is a problem+json document that matches the declared schema."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import ApiSettings

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 12
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def served_api(api_settings: ApiSettings, projector: None) -> Iterator[str]:
    """The API under uvicorn in its own thread and event loop (the test itself is blocking)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    api_settings.heartbeat_s = 0.2
    api_settings.wait_for_timeout_s = 0.05  # generated event ids are never projected
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(api_settings),
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    try:
        started = threading.Event()
        for _ in range(300):
            if server.started or not thread.is_alive():
                started.set()
                break
            started.wait(0.05)
        assert server.started, "the API did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def test_generated_requests_never_get_a_5xx_and_errors_are_problems(served_api, token):
    schema = schemathesis.openapi.from_url(f"{served_api}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/events"):
            continue  # an endless stream; covered by the SSE tests
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, served_api, headers)
            except hypothesis.errors.Unsatisfiable:
                continue  # no input of this operation can be invalid (it takes none)
            except Exception as exc:  # collect every operation's failure, then report them all
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)


def _fuzz(operation, mode, base_url: str, headers: dict[str, str]) -> None:
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        case.validate_response(response, checks=CHECKS)
        if response.status_code >= 500:
            # The one 5xx a client can cause: `?wait_for=` an event the projector never saw.
            assert response.status_code == 503, response.text
            assert response.json()["type"].endswith(":not-projected-yet"), response.text
        if response.status_code >= 400:
            content_type = response.headers.get("content-type")
            assert content_type == ["application/problem+json"], (
                f"{response.status_code} answered as {content_type}"
            )
            problem = response.json()
            assert problem["status"] == response.status_code
            assert problem["title"]

    check()

"""JSON log lines and the `/metrics` + `/healthz` endpoint."""

from __future__ import annotations

import io
import json
import logging

import httpx
from prometheus_client import CollectorRegistry, Counter

from shared.observability import JsonFormatter, ProbeServer, configure_logging


def test_a_log_line_is_one_json_object_with_the_extra_fields_at_the_top() -> None:
    record = logging.LogRecord(
        "shared.worker", logging.INFO, "x.py", 1, "asset %s", ("failed",), None
    )
    record.asset_id = "a1"
    record.code = "RATE_LIMITED"
    record.retries = 2

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "asset failed"
    assert line["level"] == "info"
    assert (line["asset_id"], line["code"], line["retries"]) == ("a1", "RATE_LIMITED", 2)


def test_configured_logging_writes_json_lines_and_quiets_chatty_libraries() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("INFO", stream)
        logging.getLogger("some.service").info("hello", extra={"correlation_id": "c-1"})
        logging.getLogger("httpx").info("HTTP Request: GET /")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(x["message"], x["correlation_id"]) for x in lines] == [("hello", "c-1")]


async def test_the_probe_serves_metrics_and_health_and_nothing_else() -> None:
    registry = CollectorRegistry()
    Counter("lecturegen_test_things_total", "Things.", registry=registry).inc(3)
    healthy = True
    probe = ProbeServer(registry, lambda: healthy, "127.0.0.1", 0)
    await probe.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{probe.port}") as client:
            metrics = await client.get("/metrics")
            ok = await client.get("/healthz")
            healthy = False
            sick = await client.get("/healthz")
            missing = await client.get("/nothing")
    finally:
        await probe.close()

    assert metrics.status_code == 200
    assert "lecturegen_test_things_total 3.0" in metrics.text
    assert (ok.status_code, sick.status_code, missing.status_code) == (200, 503, 404)

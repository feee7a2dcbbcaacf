"""JSON-line logs and the small HTTP endpoint (`/metrics`, `/healthz`) every service process serves.

Log records carry the fields DESIGN §6 names (`code`, `provider_code`, `retries`, `asset_id`,
`lecture_id`, `correlation_id`, …) when they are passed in `extra=`; the formatter writes them
as top-level JSON keys, so a log line can be filtered by asset or correlation id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from shared import kafka_logs

_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then every `extra=` field."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log record of the process to `stream` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka logs every rebalance step and httpx every request at INFO: keep their warnings.
    for chatty in ("aiokafka", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(root.level, logging.WARNING))
    # an unreachable broker: one warning, reminders and a recovery line, not aiokafka's flood
    kafka_logs.install(handler)


HealthCheck = Callable[[], bool]


class ProbeServer:
    """Serves `/metrics` (Prometheus text of `registry`) and `/healthz` (200 while `healthy()`
    holds, 503 otherwise) over plain HTTP/1.1; anything else is 404."""

    def __init__(
        self, registry: CollectorRegistry, healthy: HealthCheck, host: str, port: int
    ) -> None:
        self._registry = registry
        self._healthy = healthy
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when started with port 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), timeout=5)
            while (await asyncio.wait_for(reader.readline(), timeout=5)) not in (
                b"\r\n",
                b"\n",
                b"",
            ):
                pass  # headers are not needed
            parts = request_line.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) >= 2 else ""
            status, ctype, body = self._respond(path)
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1")
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass  # a client that hangs or goes away gets nothing
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _respond(self, path: str) -> tuple[str, str, bytes]:
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self._registry)
        if path == "/healthz":
            if self._healthy():
                return "200 OK", "text/plain; charset=utf-8", b"ok\n"
            return "503 Service Unavailable", "text/plain; charset=utf-8", b"unhealthy\n"
        return "404 Not Found", "text/plain; charset=utf-8", b"not found\n"

"""aiokafka's own log records about an unreachable broker, folded into one `Outage`.

While a broker is away, aiokafka logs every failed connection, metadata request, fetch,
heartbeat and produce attempt: thousands of lines a minute per client. `KafkaLogFilter` sits
on the process's log handler (`shared.observability.configure_logging` installs it): such a
record reports a failure to the Kafka outage and is dropped. A new connection to a broker
proves it reachable and ends the outage: aiokafka logs nothing we could take for that, so
`install` also wraps the one function every aiokafka client opens its connections with
(connections are opened rarely, never per request). So an outage reads as one warning, a
reminder now and then, and one line when the broker is back.

A partition whose leader is not ready yet (a topic just created, a leader moving to another
broker) makes aiokafka log an error although it retries by itself: such a record passes as a
warning. Other aiokafka records pass as they are.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiokafka.client
from aiokafka.errors import (
    CoordinatorNotAvailableError,
    KafkaConnectionError,
    KafkaTimeoutError,
    LeaderNotAvailableError,
    NodeNotReadyError,
    NotCoordinatorForGroupError,
    NotLeaderForPartitionError,
    RequestTimedOutError,
)

from shared.outages import KAFKA, Outage, outage

_CONNECTION_ERRORS = (
    KafkaConnectionError,
    NodeNotReadyError,
    RequestTimedOutError,
    KafkaTimeoutError,
    CoordinatorNotAvailableError,
    NotCoordinatorForGroupError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)
_LEADER_ERRORS = (NotLeaderForPartitionError, LeaderNotAvailableError)
"""A leader not ready (yet) for a partition: aiokafka refreshes its metadata and retries."""

_CONNECTION_MESSAGES = frozenset(
    {
        # aiokafka's templates that carry no exception of their own
        "Unable to update metadata from %s",
        "Marking the coordinator dead (node %s)for group %s.",
        "Got error produce response on topic-partition %s, retrying. Error: %s",
    }
)


class KafkaLogFilter(logging.Filter):
    """Drops aiokafka's records about an unreachable broker, reporting them to `watch`."""

    def __init__(self, watch: Outage | None = None) -> None:
        super().__init__()
        self._watch = watch or outage(KAFKA)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not record.name.startswith("aiokafka"):
            return True
        if _about_connection(record):
            self._watch.failed(_reason(record))
            return False
        if record.levelno > logging.WARNING and _about_a_leader(record):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _about_a_leader(record: logging.LogRecord) -> bool:
    args = record.args if isinstance(record.args, tuple) else ()
    return any(isinstance(arg, _LEADER_ERRORS) for arg in args)


def _about_connection(record: logging.LogRecord) -> bool:
    if record.msg in _CONNECTION_MESSAGES:
        return True
    args = record.args if isinstance(record.args, tuple) else ()
    if any(isinstance(arg, _CONNECTION_ERRORS) for arg in args):
        return True
    exc = record.exc_info[1] if record.exc_info else None
    return isinstance(exc, _CONNECTION_ERRORS)


def _reason(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except (TypeError, ValueError):
        return str(record.msg)


def install(handler: logging.Handler, watch: Outage | None = None) -> None:
    """Put the filter on `handler`, and report every new broker connection to `watch`."""
    watch = watch or outage(KAFKA)
    handler.addFilter(KafkaLogFilter(watch))
    _report_connections(watch)


def _report_connections(watch: Outage) -> None:
    opener: Any = aiokafka.client.create_conn
    if getattr(opener, "reports_to", None) is not None:
        opener = opener.wrapped  # installed before (logging configured again): rewrap

    async def create_conn(*args: Any, **kwargs: Any) -> Any:
        connection = await opener(*args, **kwargs)
        watch.recovered()
        return connection

    create_conn.wrapped = opener  # type: ignore[attr-defined]
    create_conn.reports_to = watch  # type: ignore[attr-defined]
    aiokafka.client.create_conn = create_conn

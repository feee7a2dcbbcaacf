"""aiokafka's own log records about an unreachable broker, folded into one `Outage`.

While a broker is away, aiokafka logs every failed connection, metadata request, fetch,
heartbeat and produce attempt: thousands of lines a minute per client. `KafkaLogFilter` sits
on the process's log handler (`shared.observability.configure_logging` installs it): such a
record reports a failure to the Kafka outage and is dropped; aiokafka's metadata update
(its one DEBUG record of `aiokafka.cluster`, let through for this) proves the broker
reachable and ends the outage. So an outage reads as one warning, a reminder now and then,
and one line when the broker is back. Other aiokafka warnings pass as they are.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka.errors import (
    CoordinatorNotAvailableError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    NotCoordinatorForGroupError,
    RequestTimedOutError,
)

from shared.outages import KAFKA, Outage, outage

METADATA_LOGGER = "aiokafka.cluster"
"""Its only DEBUG record says a metadata request succeeded: the broker answered."""
_METADATA_UPDATED = "Updated cluster metadata to %s"

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
        if not record.name.startswith("aiokafka"):
            return True
        if record.name == METADATA_LOGGER and record.levelno < logging.INFO:
            if record.msg == _METADATA_UPDATED:
                self._watch.recovered()
            return False
        if record.levelno < logging.WARNING:
            return True
        if _about_connection(record):
            self._watch.failed(_reason(record))
            return False
        return True


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
    """Put the filter on `handler` and let aiokafka's metadata record through to it."""
    handler.addFilter(KafkaLogFilter(watch))
    logging.getLogger(METADATA_LOGGER).setLevel(logging.DEBUG)

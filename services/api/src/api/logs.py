"""JSON-line logs (`shared.observability`) carrying the id of the request they belong to.

Never log a header, a query string or a token: the access line names the route template,
not the URL, because `?access_token=` travels in the URL; uvicorn's own access log is off.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from shared.observability import configure_logging

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to records logged while a request is being handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


def configure(level: str = "INFO") -> None:
    """JSON lines on stderr for this process, uvicorn's loggers included."""
    configure_logging(level)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdFilter())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True

"""One way to run a service process: its `--help`, JSON-line logs, `/metrics` and `/healthz`,
a clean stop on SIGTERM or SIGINT, and a non-zero exit when it failed.

A service's `main()` is one call:

    run_service(ABOUT, DispatcherSettings, serve, log_level=lambda s: s.log_level)

and its `serve(settings)` wraps its loop in `running(...)` (probes and signals together), or in
`stop_signals(...)` (`shared.signals`) and `probes(...)` where it must listen for a stop
before it can serve.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry
from pydantic_settings import BaseSettings

from shared.observability import HealthCheck, ProbeServer, configure_logging
from shared.signals import STOP_SIGNALS, stop_signals
from shared.variables import variables

log = logging.getLogger(__name__)

S = TypeVar("S")

__all__ = ["STOP_SIGNALS", "About", "probes", "run_service", "running", "stop_signals"]


@dataclass(frozen=True, slots=True)
class About:
    """What a service's `--help` says (its command, what it does, the settings it reads) and
    how its log lines name it."""

    prog: str
    description: str
    settings: tuple[type[BaseSettings], ...]
    name: str
    """As in its log lines: "dispatcher failed"."""
    context: Mapping[str, str] = field(default_factory=dict)
    """Extra fields of its own log lines (a worker's medium)."""

    def parser(self) -> argparse.ArgumentParser:
        lines = ["settings (environment variables, default in brackets):"]
        seen: set[str] = set()
        for settings in self.settings:
            for var in variables(settings):
                if var.name in seen:
                    continue
                seen.add(var.name)
                default = f" [{var.default}]" if var.default else ""
                about = f": {var.description}" if var.description else ""
                lines.append(f"  {var.name}{default}{about}")
        return argparse.ArgumentParser(
            prog=self.prog,
            description=self.description,
            epilog="\n".join(lines),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )


def run_service(
    about: About,
    settings: Callable[[], S],
    serve: Callable[[S], Coroutine[Any, Any, None]],
    *,
    log_level: Callable[[S], str],
    argv: Sequence[str] | None = None,
) -> None:
    """The whole `main()` of a service: answer `--help`, read the settings, log JSON lines at
    their level, run `serve` until it returns; exit 1 (after logging why) when it raised."""
    about.parser().parse_args(argv)
    read = settings()
    configure_logging(log_level(read))
    try:
        asyncio.run(serve(read))
    except Exception:
        log.exception(f"{about.name} failed", extra=dict(about.context))
        sys.exit(1)


@contextlib.asynccontextmanager
async def probes(
    registry: CollectorRegistry, healthy: HealthCheck, host: str, port: int
) -> AsyncIterator[ProbeServer]:
    """`/metrics` of `registry` and `/healthz` (per `healthy()`) served during the block."""
    server = ProbeServer(registry, healthy, host, port)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@contextlib.asynccontextmanager
async def running(
    registry: CollectorRegistry,
    healthy: HealthCheck,
    stop: Callable[[], None],
    *,
    host: str,
    port: int,
) -> AsyncIterator[int]:
    """The probes served and SIGTERM/SIGINT routed to `stop` during the block; yields the
    probes' bound port (for the "started" log line)."""
    async with probes(registry, healthy, host, port) as server:
        with stop_signals(stop):
            yield server.port

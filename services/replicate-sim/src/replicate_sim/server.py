"""Running the app under uvicorn inside the current event loop (the CLI and tests both do)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn

from replicate_sim.app import create_app
from replicate_sim.settings import Settings

GRACEFUL_SHUTDOWN_S = 2


@dataclass
class RunningServer:
    """A started server: where it listens, and how to stop it or wait for it to end."""

    base_url: str
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def wait(self) -> None:
        await self.task

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def start_server(settings: Settings, log_level: str = "warning") -> RunningServer:
    """Bind (port 0 picks a free port), start serving, and return once requests are accepted."""
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        ws="none",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            raise RuntimeError(f"replicate-sim could not listen on {settings.host}:{settings.port}")
        await asyncio.sleep(0.01)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    return RunningServer(f"http://{_url_host(host)}:{port}", server, task)


@asynccontextmanager
async def serve_in_background(settings: Settings) -> AsyncIterator[str]:
    """`async with serve_in_background(Settings(port=0)) as base_url: ...`"""
    running = await start_server(settings)
    try:
        yield running.base_url
    finally:
        await running.stop()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host

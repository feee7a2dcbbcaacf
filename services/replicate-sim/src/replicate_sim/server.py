"""Running the app under uvicorn inside the current event loop (the CLI and tests both do)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import uvicorn

from replicate_sim.app import create_app
from replicate_sim.settings import SimSettings

GRACEFUL_SHUTDOWN_S = 2
THREAD_START_TIMEOUT_S = 30


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


async def start_server(settings: SimSettings, log_level: str = "warning") -> RunningServer:
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
async def serve_in_background(settings: SimSettings) -> AsyncIterator[str]:
    """`async with serve_in_background(SimSettings(port=0)) as base_url: ...`"""
    running = await start_server(settings)
    try:
        yield running.base_url
    finally:
        await running.stop()


@contextmanager
def serve_in_thread(settings: SimSettings) -> Iterator[str]:
    """The server on its own event loop in a background thread, for synchronous callers and
    for tests that share one server across event loops."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="replicate-sim", daemon=True)
    thread.start()
    try:
        starting = asyncio.run_coroutine_threadsafe(start_server(settings), loop)
        running = starting.result(THREAD_START_TIMEOUT_S)
        try:
            yield running.base_url
        finally:
            asyncio.run_coroutine_threadsafe(running.stop(), loop).result()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host

"""A long replay applies its partitions in separate processes, side by side.

A replay is bound by one Python thread (decoding, reducers, encoding rows), so a rebuild with
many records left shares its partitions among `rebuild_processes` child processes
(`python -m timeline_projector.replay_processes`), each a `Replayer` of its own over its
partitions: its own consumer, connections and working set. Partitions hold disjoint lectures,
so no two processes touch the same rows, and each writes its offsets with its rows as a
single replayer does.

The parent hands a child its job as one JSON document on stdin; the child answers on stdout
with one line per applied batch (`progress <records>`) and a last line
`done <rejected> <working-set loads>`. A child that fails exits non-zero; the parent then
stops the others and raises, and the rebuild fails as it would in one process (a child whose
rows held back cannot be stored exits with `HELD_ROWS_FAILED`, raised again in the parent as
the `HeldRowsError` it was).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.settings import KafkaSettings, PostgresSettings
from timeline_projector.config import ProjectorSettings, Settings
from timeline_projector.held_rows import HeldRowsError
from timeline_projector.sql import NO_SYNC

log = logging.getLogger(__name__)

HELD_ROWS_FAILED = 3
"""The exit status of a child whose rows held back could not be stored."""

Span = tuple[int, int]
"""(first offset to apply, offset to stop before) of one partition."""


@dataclass(frozen=True, slots=True)
class Shared:
    """What the processes of one replay did together."""

    records: int
    rejected: int
    working_set_loads: int


class ReplayProcessError(RuntimeError):
    """A replay process failed; its last lines of stderr are in the message."""


def shares(spans: dict[int, Span], processes: int) -> list[dict[int, Span]]:
    """The partitions with records left, dealt round-robin over at most `processes` shares."""
    pending = sorted(p for p, (start, end) in spans.items() if start < end)
    dealt = [{p: spans[p] for p in pending[i::processes]} for i in range(processes)]
    return [share for share in dealt if share]


async def replay_in_processes(
    settings: Settings,
    schema: str,
    spans: dict[int, Span],
    *,
    complete: bool,
    hold: bool = False,
    progress: Callable[[int], None],
) -> Shared:
    """Apply `spans` in `settings.projector.rebuild_processes` processes; `complete` says the
    generation holds no row of these partitions yet (each child may then keep every row it
    writes in memory instead of reading rows back). `progress` gets the records applied so
    far, summed over the processes."""
    done = [0]
    rejected = loads = 0
    children = [
        _Child(share) for share in shares(spans, settings.projector.rebuild_processes) if share
    ]

    def counted(records: int) -> None:
        done[0] += records
        progress(done[0])

    try:
        for child in children:
            await child.start(_job(settings, schema, child.share, complete, hold))
        # The first failure raises; `finally` then kills the processes still running.
        for child_rejected, child_loads in await asyncio.gather(
            *(child.run(counted) for child in children)
        ):
            rejected += child_rejected
            loads += child_loads
    finally:
        for child in children:
            await child.kill()
    return Shared(done[0], rejected, loads)


def _job(
    settings: Settings, schema: str, share: dict[int, Span], complete: bool, hold: bool
) -> bytes:
    return json.dumps(
        {
            "kafka": settings.kafka.model_dump(mode="json"),
            "postgres": settings.postgres.model_dump(mode="json"),
            "projector": settings.projector.model_dump(mode="json"),
            "schema": schema,
            "spans": {str(p): list(span) for p, span in share.items()},
            "complete": complete,
            "hold": hold,
        }
    ).encode()


class _Child:
    """One replay process, seen from the parent."""

    def __init__(self, share: dict[int, Span]) -> None:
        self.share = share
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self, job: bytes) -> None:
        self._proc = proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stdin is not None
        proc.stdin.write(job)
        await proc.stdin.drain()
        proc.stdin.close()

    async def run(self, progress: Callable[[int], None]) -> tuple[int, int]:
        """Follow the child to its end: (records rejected, working-set loads)."""
        proc = self._proc
        assert proc is not None
        assert proc.stdout is not None
        assert proc.stderr is not None
        errors = asyncio.ensure_future(proc.stderr.read())
        result: tuple[int, int] | None = None
        async for line in proc.stdout:  # anything else a library might print is ignored
            match line.decode(errors="replace").split():
                case ["progress", records] if records.isdigit():
                    progress(int(records))
                case ["done", rejected, loads] if rejected.isdigit() and loads.isdigit():
                    result = (int(rejected), int(loads))
        code = await proc.wait()
        stderr = (await errors).decode(errors="replace")
        if code == HELD_ROWS_FAILED:
            raise HeldRowsError(stderr.strip().splitlines()[-1] if stderr.strip() else "")
        if code != 0 or result is None:
            tail = "\n".join(stderr.strip().splitlines()[-15:])
            raise ReplayProcessError(
                f"replay process for partitions {sorted(self.share)} exited with {code}:\n{tail}"
            )
        return result

    async def kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


# --- the child ----------------------------------------------------------------------------


async def _child(job: dict[str, Any]) -> tuple[int, int]:
    from timeline_projector.rebuild import Replayer  # the child's side only: no import cycle

    settings = Settings(
        KafkaSettings(**job["kafka"]),
        PostgresSettings(**job["postgres"]),
        ProjectorSettings(**job["projector"]),
    )
    spans = {int(p): (int(start), int(end)) for p, (start, end) in job["spans"].items()}
    conn = await asyncpg.connect(settings.postgres.dsn, server_settings=NO_SYNC)
    last = [0]

    def report(done: int, total: int) -> None:
        if done > last[0]:
            print(f"progress {done - last[0]}", flush=True)
            last[0] = done

    try:
        replayer = Replayer(
            settings, conn, job["schema"], report, None, complete=bool(job["complete"])
        )
        try:
            await replayer.start({p: start for p, (start, _) in spans.items()})
            await replayer.replay_to(
                {p: end for p, (_, end) in spans.items()},
                processes=False,
                hold=bool(job.get("hold", False)),
            )
        finally:
            await replayer.stop()
    finally:
        await conn.close()
    return replayer.rejected, replayer.working_set.loads


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        rejected, loads = asyncio.run(_child(json.load(sys.stdin)))
    except HeldRowsError as exc:
        print(exc, file=sys.stderr, flush=True)
        sys.exit(HELD_ROWS_FAILED)
    print(f"done {rejected} {loads}", flush=True)


if __name__ == "__main__":
    main()

"""A minimal faust-streaming app with the shape of the provider-health job, run as its own
process by `test_faust_contract_integration.py`: read raw records and one header, forward them
re-keyed with their own timestamp, count them in a hopping window and in a plain table (both
with changelogs), and write each count to an output topic.

A record whose `die` header is `once` kills the process before it is handled, the first time
it is seen (a marker file remembers): after the restart it must be handled, so the committed
offset did not pass it.

The app says how far it got on its standard output, one line at a time (faust's own console
output goes to standard error), so the test waits on what the app did rather than on time:
`assigned N` when it is given N partitions, `ready` when its tables are recovered and its
streams resume, `forwarded VALUE` and `counted VALUE` as a record passes each stage, `dying
VALUE` just before the planned crash.

Usage: python faust_probe_app.py BOOTSTRAP APP_ID INPUT OUTPUT MARKER_FILE
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

import faust

WINDOW_S = 10.0
STEP_S = 5.0


def build(
    bootstrap: str, app_id: str, source: str, sink: str, marker: Path, progress: TextIO
) -> faust.App:
    app = faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        topic_partitions=2,
        broker_session_timeout=10,
        web_enabled=False,
        datadir=str(marker.parent / "data"),
    )
    inbound = app.topic(source, key_serializer="raw", value_serializer="raw")
    keyed = app.topic(
        f"{app_id}-keyed", key_serializer="raw", value_serializer="raw", internal=True
    )
    outbound = app.topic(sink, key_serializer="raw", value_serializer="raw")

    def say(line: str) -> None:
        print(line, file=progress, flush=True)

    @app.on_partitions_assigned.connect
    def assigned(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        say(f"assigned {len(args[0])}")  # the set of partitions

    @app.on_rebalance_complete.connect
    def ready(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        say("ready")

    totals = app.Table("totals", default=int)
    windowed = (
        app.Table("windowed", default=int)
        .hopping(
            timedelta(seconds=WINDOW_S), timedelta(seconds=STEP_S), expires=timedelta(minutes=5)
        )
        .relative_to_stream()
    )

    @app.agent(inbound)
    async def rekey(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            if event.headers.get("die") == b"once" and not _marked(marker):
                say(f"dying {event.value.decode()}")
                os._exit(9)
            group = event.headers["group"]
            await keyed.send(key=group, value=event.value, timestamp=event.message.timestamp)
            say(f"forwarded {event.value.decode()}")

    @app.agent(keyed)
    async def count(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            group = event.key.decode()
            totals[group] += 1
            windowed[group] += 1
            recent = windowed[group].delta(WINDOW_S - STEP_S)
            body = {
                "group": group,
                "total": totals[group],
                "recent": recent,
                "value": event.value.decode(),
            }
            await outbound.send(key=event.key, value=json.dumps(body).encode())
            say(f"counted {event.value.decode()}")

    return app


def _marked(marker: Path) -> bool:
    """Whether `marker` existed; it does from now on."""
    if marker.exists():
        return True
    marker.write_text("died")
    return False


def main() -> None:
    bootstrap, app_id, source, sink, marker = sys.argv[1:6]
    # faust takes over sys.stdout; the progress lines keep a copy of the real one to themselves
    progress = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    app = build(bootstrap, app_id, source, sink, Path(marker), progress)
    from faust.worker import Worker

    Worker(app, loglevel="WARNING", stdout=sys.stderr).execute_from_commandline()


if __name__ == "__main__":
    main()

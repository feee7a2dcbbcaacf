"""A minimal faust-streaming app with the shape of the provider-health job, run as its own
process by `test_faust_contract_integration.py`: read raw records and one header, forward them
re-keyed with their own timestamp, count them in a hopping window and in a plain table (both
with changelogs), and write each count to an output topic.

A record whose `die` header is `once` kills the process before it is handled, the first time
it is seen (a marker file remembers): after the restart it must be handled, so the committed
offset did not pass it.

Usage: python faust_probe_app.py BOOTSTRAP APP_ID INPUT OUTPUT MARKER_FILE
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from pathlib import Path

import faust

WINDOW_S = 10.0
STEP_S = 5.0


def build(bootstrap: str, app_id: str, source: str, sink: str, marker: Path) -> faust.App:
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
                os._exit(9)
            group = event.headers["group"]
            await keyed.send(key=group, value=event.value, timestamp=event.message.timestamp)

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

    return app


def _marked(marker: Path) -> bool:
    """Whether `marker` existed; it does from now on."""
    if marker.exists():
        return True
    marker.write_text("died")
    return False


def main() -> None:
    bootstrap, app_id, source, sink, marker = sys.argv[1:6]
    app = build(bootstrap, app_id, source, sink, Path(marker))
    from faust.worker import Worker

    Worker(app, loglevel="WARNING").execute_from_commandline()


if __name__ == "__main__":
    main()

"""The faust job: the event log in, circuit states out (decision 0019, 0028).

Stage 1 (`observe`) reads the event log, keeps only what a provider call said and of which
asset (`shared.health.outcomes`) and forwards it keyed by `provider/model` with the event's
own timestamp (faust's `forward` would restamp it with the wall clock). Stage 2 (`decide`)
counts outcomes and keeps a bounded sample of the distinct assets tried per key in hopping
windows, runs the pure breaker (`shared.health.breaker`), keeps each circuit in a table, and
publishes every state change to the compacted health topic.
Both tables have changelogs, so a restarted job goes on where it stopped. A timer sends a
tick through stage 2 for every open circuit, since tables are written only while handling a
record and an outage sends no records at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import faust

from provider_health.metrics import HealthMetrics
from provider_health.records import (
    TICK,
    dump_circuit,
    dump_observation,
    health_changed,
    load_circuit,
    load_observation,
)
from provider_health.settings import ProviderHealthSettings
from shared import topics
from shared.envelope import decode
from shared.events import PayloadError
from shared.health.breaker import Outcome, Thresholds, Window, add_asset, observe, tick
from shared.health.outcomes import observe_event
from shared.settings import KafkaSettings

log = logging.getLogger("provider_health")


def build(
    settings: ProviderHealthSettings,
    thresholds: Thresholds,
    kafka: KafkaSettings,
    metrics: HealthMetrics,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    replication_factor: int = 1,
) -> faust.App:
    ns = kafka.topic_namespace
    app_id = f"{ns}{settings.app_id}"
    app = faust.App(
        app_id,
        broker=f"kafka://{kafka.bootstrap_servers}",
        store="memory://",
        topic_partitions=settings.partitions,
        # faust makes its own topics (re-keyed stream, changelogs): as many replicas as every
        # other topic, or a cluster with min.insync.replicas 2 refuses their writes
        topic_replication_factor=replication_factor,
        broker_session_timeout=10,
        consumer_auto_offset_reset=settings.start_from,
        web_enabled=False,
        datadir=str(settings.data_dir / app_id),
    )
    events = app.topic(topics.events(ns), key_serializer="raw", value_serializer="raw")
    observed = app.topic(
        f"{app_id}-observed",
        key_serializer="raw",
        value_serializer="raw",
        internal=True,
        partitions=settings.partitions,
    )
    health = app.topic(topics.provider_health(ns), key_serializer="raw", value_serializer="raw")
    size, step = timedelta(seconds=thresholds.window_s), timedelta(seconds=thresholds.step_s)
    lookback = thresholds.window_s - thresholds.step_s

    def hopping(name: str, default: type = int) -> Any:
        table = app.Table(name, default=default, partitions=settings.partitions)
        return table.hopping(size, step, expires=size * 4).relative_to_stream()

    attempts, failures, limited = hopping("attempts"), hopping("failures"), hopping("limited")
    assets = hopping("assets", dict)
    """Per window, a sample of the distinct assets tried: token → failed (at most 64)."""
    circuits = app.Table("circuits", default=dict, partitions=settings.partitions)

    def window(key: str) -> Window:
        return Window(
            attempts[key].delta(lookback),
            failures[key].delta(lookback),
            limited[key].delta(lookback),
            assets[key].delta(lookback),
        )

    @app.agent(events)
    async def observe_events(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            try:
                envelope = decode(event.value, list(event.message.headers or []))
            except PayloadError:
                continue  # not ours to judge: the projector dead-letters bad events
            seen = observe_event(envelope.payload)
            if seen is not None:
                await observed.send(
                    key=seen.key.encode(),
                    value=dump_observation(seen),
                    timestamp=event.message.timestamp,
                )

    @app.agent(observed)
    async def decide(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            key = event.key.decode()
            try:
                now = datetime.fromtimestamp(event.message.timestamp, UTC)
                before = load_circuit(circuits[key])
                if event.value == TICK:
                    counts = window(key)
                    after = tick(before, now, thresholds)
                else:
                    outcome, asset = load_observation(event.value)
                    attempts[key] += 1
                    if outcome is Outcome.FAILED:
                        failures[key] += 1
                    elif outcome is Outcome.RATE_LIMITED:
                        limited[key] += 1
                    if outcome is not Outcome.RATE_LIMITED:
                        assets[key].apply(add_asset, (asset, outcome is Outcome.FAILED))
                    counts = window(key)
                    after = observe(before, outcome, counts, now, thresholds, asset)
                if after == before:
                    continue
                circuits[key] = dump_circuit(after)
                if after.state is not before.state:
                    value, headers = health_changed(key, after, counts, now)
                    await health.send(key=key.encode(), value=value, headers=headers)
                    metrics.show(key, after)
                    log.warning(
                        "circuit %s is %s: %s",
                        key,
                        after.state.value,
                        after.reason,
                        extra={"circuit": key, "state": after.state.value},
                    )
            except Exception:
                # an exception here would restart the agent and still commit the record
                log.exception("could not judge a record", extra={"circuit": key})

    @app.timer(interval=settings.tick_s)  # type: ignore[untyped-decorator]
    async def ticks() -> None:
        try:
            for key, data in list(circuits.items()):
                circuit = load_circuit(data)
                metrics.show(key, circuit)
                if tick(circuit, clock(), thresholds) != circuit:
                    await observed.send(key=key.encode(), value=TICK)
        except Exception:  # an exception in a timer would stop the worker
            log.exception("could not tick the circuits")

    return app

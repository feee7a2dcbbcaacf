"""How long a person waits from posting a lecture to seeing its result on the SSE stream.

Starts the whole stack with `lecturegen up --detach --no-infra` (its own topics, database,
ports and logs under `.local/bench/`), with the local Replicate-compatible server answering at
once (`REPLICATE_SIM_DEFAULT_LATENCY=0`). Posts lectures of one image each to the real API at
a steady rate (default 20 a second for 15 s); for each, opens the lecture's SSE stream as soon
as the 202 is back (again every 50 ms while it answers 404: the lecture is not projected yet)
and times the 202 to the arrival of its `asset.generated`. Records `request_to_sse_p99_ms`
(goal: p99 <= 1 s). Stops the stack with `lecturegen down` at the end. Needs the local Kafka and
PostgreSQL (`make infra`). Also prints how soon the stream opened (not 404) after the 202, the
load average, and the CPU time each of the stack's processes (and this script) spent per
lecture while the lectures ran (on Linux, from `/proc`): the latency is a queue when the
machine cannot give the stack that much CPU at the rate asked for.

    python bench/request_to_sse.py [--rate 20] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import httpx
from _results import record

from lecturegen_cli.sse import SseParser
from lecturegen_cli.stack.private_run import PrivateRun, private_env
from shared.settings import KafkaSettings, PostgresSettings
from shared.testing.databases import fresh_database

ROOT = Path(__file__).resolve().parent.parent


def private_run(run: str, dsn: str) -> PrivateRun:
    """The stack's own run under `.local/bench/`, with a provider that answers at once."""
    home = ROOT / ".local" / "bench" / f"stack-{run}"
    env = private_env(
        home,
        namespace=f"bench{run}.",
        kafka=KafkaSettings().bootstrap_servers,
        dsn=dsn,
        REPLICATE_SIM_DEFAULT_LATENCY="0",
        # 20 images a second is twice what a Replicate account allows; the local server has no
        # such limit, and this measures the pipeline, not the account's budget (decision 0018)
        LECTUREGEN_PROVIDER_CREATES_PER_MIN="100000",
        LECTUREGEN_PROVIDER_READS_PER_MIN="100000",
    )
    return PrivateRun(env, home)


def succeeded(done: subprocess.CompletedProcess[str]) -> None:
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(done.args)} failed:\n{done.stdout}{done.stderr}")


def cpu_seconds(state: dict[str, Any]) -> dict[str, float]:
    """CPU seconds (user + system) so far of each process the stack's state names, and of
    this script; empty where `/proc` is not there to read."""
    pids = {name: p.get("pid") for name, p in state.get("processes", {}).items()}
    pids["bench client"] = os.getpid()
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    found = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        found[name] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return found


def cpu_per_lecture(
    before: dict[str, float], after: dict[str, float], lectures: int
) -> dict[str, float]:
    """Milliseconds of CPU per lecture, by process, busiest first."""
    spent = {
        name: (after[name] - before[name]) * 1000 / lectures for name in after if name in before
    }
    return dict(sorted(spent.items(), key=lambda item: -item[1]))


def lecture(run: str, i: int) -> dict[str, Any]:
    return {
        "title": f"bench {run} {i}",
        "segments": [
            {"duration_s": 4, "image": {"prompt": f"a lighthouse at dusk, bench {run} {i}"}}
        ],
    }


class Timed(NamedTuple):
    """One lecture, in milliseconds after its 202: when its stream opened (not 404), when its
    `asset.generated` arrived on it, and the event times (their CloudEvents `time`, this
    machine's clock) of its `asset.attempt-started` and `asset.generated`."""

    opened: float
    arrived: float
    started: float
    generated: float


async def follow(
    client: httpx.AsyncClient, token: str, accepted: dict[str, Any], timeout_s: float = 60
) -> tuple[float, float, dict[str, float]]:
    """Read the lecture's stream until its `asset.generated`: (when the stream opened, when
    the event came), perf_counter seconds, and the events' own times by type, epoch seconds."""
    deadline = time.perf_counter() + timeout_s
    lecture_id = accepted["lecture_id"]
    while time.perf_counter() < deadline:
        async with client.stream(
            "GET",
            f"/v1/lectures/{lecture_id}/events",
            params={"access_token": token, "wait_for": accepted["event_id"]},
            headers={"Accept": "text/event-stream"},
            timeout=httpx.Timeout(10.0, read=timeout_s),
        ) as stream:
            if stream.status_code == 404:  # not projected yet
                await stream.aread()
                await asyncio.sleep(0.05)
                continue
            stream.raise_for_status()
            opened = time.perf_counter()
            parser = SseParser()
            times: dict[str, float] = {}
            async for line in stream.aiter_lines():
                message = parser.feed(line)
                if message is None:
                    continue
                sent = json.loads(message.data).get("time")
                if sent is not None:
                    times.setdefault(message.event, datetime.fromisoformat(sent).timestamp())
                if message.event == "asset.generated":
                    return opened, time.perf_counter(), times
    raise TimeoutError(f"no asset.generated for lecture {lecture_id} within {timeout_s} s")


async def post_and_follow(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> Timed:
    """The lecture's timings after its 202."""
    response = await client.post(
        "/v1/lectures", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    accepted_at, accepted_epoch = time.perf_counter(), time.time()
    if response.status_code != 202:
        raise RuntimeError(f"POST /v1/lectures: {response.status_code} {response.text}")
    opened, arrived, times = await follow(client, token, response.json())
    return Timed(
        opened=(opened - accepted_at) * 1000,
        arrived=(arrived - accepted_at) * 1000,
        started=(times.get("asset.attempt-started", math.nan) - accepted_epoch) * 1000,
        generated=(times["asset.generated"] - accepted_epoch) * 1000,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(rate: float, seconds: float) -> None:
    run = uuid.uuid4().hex[:8]
    async with fresh_database(PostgresSettings().dsn, f"bench_{run}") as dsn:
        stack = private_run(run, dsn)
        succeeded(await asyncio.to_thread(stack.start, 240))
        try:
            state = stack.state()
            url, token = state["api_url"], state["api_token"]
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
            async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
                await post_and_follow(client, token, lecture(run, -1))  # warm: one lecture
                cpu_before = cpu_seconds(state)
                started = time.perf_counter()
                tasks = []
                for i in range(int(rate * seconds)):
                    ahead = started + i / rate - time.perf_counter()
                    if ahead > 0:
                        await asyncio.sleep(ahead)
                    tasks.append(
                        asyncio.create_task(post_and_follow(client, token, lecture(run, i)))
                    )
                timed = await asyncio.gather(*tasks)
                cpu = cpu_per_lecture(cpu_before, cpu_seconds(state), len(tasks))
                load = os.getloadavg()
        finally:
            await asyncio.to_thread(stack.stop)
        # Kept when the run failed, for its logs; removed (media and all) when it worked.
        shutil.rmtree(stack.home, ignore_errors=True)
    opens, waits = [t.opened for t in timed], [t.arrived for t in timed]
    print(
        f"202 → stream open (not 404), ms: p50 {percentile(opens, 0.5):.0f}, "
        f"p99 {percentile(opens, 0.99):.0f}"
    )
    stages = {
        "202 → attempt started (API, dispatcher, worker's pick-up)": [
            t.started for t in timed if not math.isnan(t.started)
        ],
        "attempt started → generated (the worker's call to the provider)": [
            t.generated - t.started for t in timed if not math.isnan(t.started)
        ],
        "generated → on the SSE stream (projector, notification, API)": [
            t.arrived - t.generated for t in timed
        ],
    }
    for stage, values in stages.items():
        if values:
            print(
                f"  {stage}, ms: p50 {percentile(values, 0.5):.0f}, "
                f"p99 {percentile(values, 0.99):.0f}"
            )
    p50, p99 = percentile(waits, 0.5), percentile(waits, 0.99)
    print(
        f"{len(waits)} lectures at {rate:g}/s: 202 → asset.generated on SSE, ms: "
        f"p50 {p50:.0f}, p99 {p99:.0f}, max {max(waits):.0f}"
    )
    if cpu:
        print(
            f"CPU per lecture, ms: {sum(cpu.values()):.0f} in all ("
            + ", ".join(f"{name} {ms:.1f}" for name, ms in cpu.items())
            + f"); that is {sum(cpu.values()) * rate / 1000:.2f} cores at {rate:g}/s"
        )
    print(f"load average at the end: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}")
    record("request_to_sse_p99_ms", p99, "ms", goal="<= 1000 ms", met=p99 <= 1000)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="lectures per second")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.seconds))

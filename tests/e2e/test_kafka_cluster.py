"""A lecture on the local three-broker cluster (`deploy/local/kafka.sh --brokers 3`) while the
broker leading the event log is killed (SIGKILL) and restarted: no event lost, no outcome
twice, and every offset the event log had acknowledged before the kill still readable."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from lecturegen_cli.sockets import free_port
from shared import topics
from shared.envelope import decode
from shared.events import AssetFailed, AssetGenerated, AssetNeedsPromptUpdate, LectureCreated
from shared.testing.infra import find_repo_root

if TYPE_CHECKING:
    from tests.e2e.conftest import LocalRun

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

BROKERS = 3
IMAGES = 16
LATENCY = "[[sim:latency=8]]"
OUTCOMES = (AssetGenerated, AssetFailed, AssetNeedsPromptUpdate)


@dataclass(frozen=True)
class Cluster:
    env: dict[str, str]
    bootstrap: str
    root: Path

    def script(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(find_repo_root() / "deploy" / "local" / "kafka.sh"), "--brokers", "3", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def pid(self, node: int) -> int:
        return int((self.root / "kafka-cluster" / f"node-{node}" / "kafka.pid").read_text())


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A private three-node cluster of kafka.sh on free ports, stopped after the test."""
    root = tmp_path / "local"
    shared_libs = find_repo_root() / ".local" / "kafka" / "libs"
    if shared_libs.is_dir():  # reuse the jars instead of copying them again from Maven
        (root / "kafka").mkdir(parents=True)
        (root / "kafka" / "libs").symlink_to(shared_libs)
    ports = [free_port() for _ in range(2 * BROKERS)]
    env = {
        **os.environ,
        "LECTUREGEN_LOCAL_DIR": str(root),
        "LECTUREGEN_KAFKA_CLUSTER_PORTS": ",".join(map(str, ports[:BROKERS])),
        "LECTUREGEN_KAFKA_CLUSTER_CONTROLLER_PORTS": ",".join(map(str, ports[BROKERS:])),
        "LECTUREGEN_KAFKA_READY_TIMEOUT_S": "150",
    }
    the_cluster = Cluster(env, ",".join(f"127.0.0.1:{p}" for p in ports[:BROKERS]), root)
    try:
        started = the_cluster.script("start")
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"kafka cluster ready at {the_cluster.bootstrap}" in started.stdout
        yield the_cluster
    finally:
        the_cluster.script("stop")


async def _describe_events(bootstrap: str, topic: str) -> tuple[dict[int, list[int]], str]:
    """The event log's partitions with their replicas' node ids (leader first), and its
    effective min.insync.replicas."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        replicas = {
            p["partition"]: [p["leader"], *(r for r in p["replicas"] if r != p["leader"])]
            for p in described["partitions"]
        }
        (config,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = {entry[0]: entry[1] for entry in config.resources[0][4]}
    finally:
        await admin.close()
    return replicas, entries["min.insync.replicas"]


Record = tuple[bytes | None, tuple[tuple[str, bytes], ...]]
"""A record's value and headers."""


async def _read_all(
    bootstrap: str, topic: str, partition_ids: list[int]
) -> dict[tuple[int, int], Record]:
    """Every record of `topic` below its current end, by (partition, offset), read without a
    consumer group; fails when an offset below the end cannot be read."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in partition_ids]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: dict[tuple[int, int], Record] = {}
        async with asyncio.timeout(60):
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                for tp, batch in (await consumer.getmany(timeout_ms=500)).items():
                    for record in batch:
                        if record.offset < ends[tp]:
                            value = (record.value, tuple(record.headers))
                            records[(tp.partition, record.offset)] = value
        assert sum(ends.values()) == len(records), "an offset below the end was not readable"
        return records
    finally:
        await consumer.stop()


def test_a_lecture_survives_a_killed_and_restarted_broker_without_losing_or_doubling_events(
    cluster: Cluster, local_run: LocalRun
) -> None:
    local_run.env.update(
        KAFKA_BOOTSTRAP_SERVERS=cluster.bootstrap,
        LECTUREGEN_TOPIC_REPLICATION_FACTOR="3",
    )
    supervisor = local_run.up()
    local_run.wait_ready(supervisor)
    events = topics.events(local_run.env["LECTUREGEN_TOPIC_NAMESPACE"])
    replicas, min_isr = asyncio.run(_describe_events(cluster.bootstrap, events))
    assert {len(r) for r in replicas.values()} == {3}
    assert min_isr == "2"

    tag = uuid.uuid4().hex[:8]
    body = {
        "title": f"Three brokers {tag}",
        "segments": [
            {"duration_s": 4, "image": {"prompt": f"{LATENCY} beacon {i} on a cliff ({tag})"}}
            for i in range(IMAGES)
        ],
    }
    with local_run.api() as api:
        accepted = api.post("/v1/lectures", json=body)
    assert accepted.status_code == 202, accepted.text
    lecture_id = accepted.json()["lecture_id"]
    local_run.wait_for("every create", lambda: local_run.sim_creates(tag) == IMAGES, 90)

    before = asyncio.run(
        _read_all(cluster.bootstrap, events, list(replicas))
    )  # acknowledged: below the end
    victim = replicas[0][0]  # the leader of the event log's first partition
    os.kill(cluster.pid(victim), signal.SIGKILL)
    time.sleep(3)  # the pipeline goes on with two brokers: min.insync.replicas=2 holds
    restarted = cluster.script("--node", str(victim), "start")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr

    assets = local_run.wait_terminal(lecture_id, IMAGES, timeout_s=240)
    assert [a["status"] for a in assets] == ["generated"] * IMAGES
    assert local_run.sim_creates(tag) == IMAGES

    after = asyncio.run(_read_all(cluster.bootstrap, events, list(replicas)))
    assert {k: after.get(k) for k in before} == before, "an acknowledged event changed or went"
    outcomes: dict[str, list[str]] = {}
    created = 0
    for value, headers in after.values():
        envelope = decode(value, headers)
        if isinstance(envelope.payload, LectureCreated):
            created += envelope.payload.lecture_id == lecture_id
        if isinstance(envelope.payload, OUTCOMES) and envelope.payload.lecture_id == lecture_id:
            outcomes.setdefault(envelope.payload.asset_id, []).append(envelope.id)
    assert created == 1
    assert len(outcomes) == IMAGES
    assert all(len(ids) == 1 for ids in outcomes.values()), outcomes  # not even a resend
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=150) == 0

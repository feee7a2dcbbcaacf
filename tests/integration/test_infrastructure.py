"""The local infrastructure works as the services need it: a durable Kafka 4 broker that takes
idempotent ``acks=all`` writes, a PostgreSQL server reachable through asyncpg, and start-up
scripts that fail loudly with the fix when the machine is not ready for them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.testing.databases import fresh_database
from shared.testing.infra import find_repo_root

pytestmark = pytest.mark.integration

MESSAGES = [(f"key-{i}".encode(), f"value-{i}".encode()) for i in range(20)]


async def create_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()


async def produce_durably(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def consume(bootstrap: str, topic: str, group: str, count: int) -> list[tuple[bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: list[tuple[bytes, bytes]] = []
    try:
        for _ in range(60):
            batches = await consumer.getmany(timeout_ms=500)
            received += [(r.key, r.value) for rs in batches.values() for r in rs]
            if len(received) >= count:
                break
    finally:
        await consumer.stop()
    return received


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_script(script: str, action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(find_repo_root() / "deploy" / "local" / script), action],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def private_kafka_env(state_dir: Path) -> dict[str, str]:
    """Environment for a throwaway broker of kafka.sh that shares nothing with the real one."""
    return {
        **os.environ,
        "LECTUREGEN_LOCAL_DIR": str(state_dir),
        "LECTUREGEN_KAFKA_PORT": str(free_port()),
        "LECTUREGEN_KAFKA_CONTROLLER_PORT": str(free_port()),
    }


@pytest.fixture(scope="module")
def private_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running second broker of kafka.sh, which tests may stop, kill and start at will."""
    assert shutil.which("java") or os.environ.get("JAVA_HOME"), (
        "kafka.sh needs Java 17+ to run a private broker: install openjdk-17-jre-headless"
    )
    state_dir = tmp_path_factory.mktemp("private-kafka")
    shared_libs = find_repo_root() / ".local" / "kafka" / "libs"
    if shared_libs.is_dir():  # reuse the jars instead of copying them again from Maven
        (state_dir / "kafka").mkdir()
        (state_dir / "kafka" / "libs").symlink_to(shared_libs)
    env = private_kafka_env(state_dir)
    try:
        started = run_script("kafka.sh", "start", env)
        assert started.returncode == 0, started.stdout + started.stderr
        yield env
    finally:
        run_script("kafka.sh", "stop", env)


async def test_idempotent_acks_all_writes_are_consumed_back(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = f"infra-roundtrip-{unique_name}"
    await create_topic(kafka_bootstrap, topic)

    await produce_durably(kafka_bootstrap, topic, MESSAGES)
    received = await consume(kafka_bootstrap, topic, f"infra-{unique_name}", len(MESSAGES))

    assert sorted(received) == sorted(MESSAGES)


async def test_messages_written_before_a_broker_restart_are_read_after_it(
    private_kafka: dict[str, str], unique_name: str
) -> None:
    bootstrap = f"127.0.0.1:{private_kafka['LECTUREGEN_KAFKA_PORT']}"
    topic = f"infra-restart-{unique_name}"
    await create_topic(bootstrap, topic)
    await produce_durably(bootstrap, topic, MESSAGES)

    stopped = run_script("kafka.sh", "stop", private_kafka)
    restarted = run_script("kafka.sh", "start", private_kafka)

    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert f"kafka ready at {bootstrap}" in restarted.stdout
    received = await consume(bootstrap, topic, f"infra-{unique_name}", len(MESSAGES))
    assert sorted(received) == sorted(MESSAGES)


async def test_a_killed_broker_with_a_stale_pid_file_restarts_with_its_messages(
    private_kafka: dict[str, str], unique_name: str
) -> None:
    bootstrap = f"127.0.0.1:{private_kafka['LECTUREGEN_KAFKA_PORT']}"
    topic = f"infra-crash-{unique_name}"
    await create_topic(bootstrap, topic)
    await produce_durably(bootstrap, topic, MESSAGES)
    kafka_dir = Path(private_kafka["LECTUREGEN_LOCAL_DIR"]) / "kafka"
    os.kill(int((kafka_dir / "kafka.pid").read_text()), signal.SIGKILL)

    restarted = run_script("kafka.sh", "start", private_kafka)

    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert "already running" not in restarted.stdout
    assert (kafka_dir / "data" / "meta.properties").exists()
    received = await consume(bootstrap, topic, f"infra-{unique_name}", len(MESSAGES))
    assert sorted(received) == sorted(MESSAGES)


def test_stopping_a_stopped_broker_is_fine_and_status_says_it_is_down(tmp_path: Path) -> None:
    env = private_kafka_env(tmp_path)

    stopped = run_script("kafka.sh", "stop", env)
    status = run_script("kafka.sh", "status", env)

    assert stopped.returncode == 0, stopped.stderr
    assert "kafka is not running" in stopped.stdout
    assert status.returncode == 3
    assert "kafka is not running" in status.stdout


def test_starting_a_running_broker_changes_nothing(private_kafka: dict[str, str]) -> None:
    again = run_script("kafka.sh", "start", private_kafka)

    assert again.returncode == 0, again.stdout + again.stderr
    assert "already running" in again.stdout
    assert f"kafka ready at 127.0.0.1:{private_kafka['LECTUREGEN_KAFKA_PORT']}" in again.stdout


async def test_postgres_rows_written_through_asyncpg_are_read_back(pg_database: str) -> None:
    connection = await asyncpg.connect(pg_database)
    try:
        await connection.execute("create table notes (id int primary key, body text not null)")
        await connection.executemany(
            "insert into notes values ($1, $2)", [(1, "first"), (2, "second")]
        )
        rows = await connection.fetch("select id, body from notes order by id")
        server_version = await connection.fetchval("show server_version_num")
    finally:
        await connection.close()

    assert [tuple(row) for row in rows] == [(1, "first"), (2, "second")]
    assert int(server_version) // 10000 == 15


async def test_each_test_gets_an_empty_database_of_its_own(
    pg_database: str, postgres_dsn: str
) -> None:
    connection = await asyncpg.connect(pg_database)
    try:
        tables = await connection.fetchval(
            "select count(*) from information_schema.tables where table_schema = 'public'"
        )
        name = await connection.fetchval("select current_database()")
    finally:
        await connection.close()

    assert tables == 0
    assert name != postgres_dsn.rsplit("/", 1)[-1]


async def test_a_test_database_is_dropped_even_with_connections_left_open_to_it(
    postgres_dsn: str, unique_name: str
) -> None:
    name = f"test_{unique_name}_open"
    async with fresh_database(postgres_dsn, name) as dsn:
        left_open = [await asyncpg.connect(dsn) for _ in range(2)]
        await left_open[0].execute("create table notes (id int primary key)")
    try:
        server = await asyncpg.connect(postgres_dsn)
        try:
            exists = await server.fetchval(
                "select count(*) from pg_database where datname = $1", name
            )
        finally:
            await server.close()
    finally:
        for connection in left_open:
            connection.terminate()

    assert exists == 0


def test_kafka_start_names_a_taken_port_and_the_fix(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {
            **os.environ,
            "LECTUREGEN_LOCAL_DIR": str(tmp_path),
            "LECTUREGEN_KAFKA_PORT": str(port),
        }

        result = run_script("kafka.sh", "start", env)

    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "LECTUREGEN_KAFKA_PORT" in result.stderr
    assert not (tmp_path / "kafka" / "libs").exists(), "it must fail before fetching jars"


def path_without(program: str, shadow_root: Path) -> str:
    """PATH with every directory that holds ``program`` replaced by a copy without it."""
    directories = []
    for index, directory in enumerate(os.environ["PATH"].split(os.pathsep)):
        if not (Path(directory) / program).exists():
            directories.append(directory)
            continue
        shadow = shadow_root / str(index)
        shadow.mkdir(parents=True)
        for entry in Path(directory).iterdir():
            if entry.name != program:
                (shadow / entry.name).symlink_to(entry)
        directories.append(str(shadow))
    return os.pathsep.join(directories)


def java_free_env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PATH": path_without("java", tmp_path / "path"),
        "LECTUREGEN_LOCAL_DIR": str(tmp_path / "state"),
        "LECTUREGEN_KAFKA_PORT": str(free_port()),
    }
    env.pop("JAVA_HOME", None)
    return env


def test_kafka_start_without_java_says_how_to_install_it(tmp_path: Path) -> None:
    result = run_script("kafka.sh", "start", java_free_env(tmp_path))

    assert result.returncode != 0
    assert "java was not found" in result.stderr
    assert "apt-get install" in result.stderr


def test_kafka_start_with_a_java_home_that_has_no_java_says_so(tmp_path: Path) -> None:
    env = {**java_free_env(tmp_path), "JAVA_HOME": str(tmp_path / "nowhere")}

    result = run_script("kafka.sh", "start", env)

    assert result.returncode != 0
    assert f"JAVA_HOME={tmp_path / 'nowhere'} has no bin/java" in result.stderr


def test_kafka_start_refuses_a_java_older_than_17(tmp_path: Path) -> None:
    old_java = tmp_path / "jdk11" / "bin" / "java"
    old_java.parent.mkdir(parents=True)
    old_java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.22\" 2024-01-16' >&2\n")
    old_java.chmod(0o755)
    env = {**java_free_env(tmp_path), "JAVA_HOME": str(tmp_path / "jdk11")}

    result = run_script("kafka.sh", "start", env)

    assert result.returncode != 0
    assert "Java 11.0.22; Kafka 4 needs Java 17 or newer" in result.stderr


def test_kafka_first_start_without_maven_says_how_to_install_it(tmp_path: Path) -> None:
    env = {
        **private_kafka_env(tmp_path / "state"),
        "PATH": path_without("mvn", tmp_path / "path"),
    }

    result = run_script("kafka.sh", "start", env)

    assert result.returncode != 0
    assert "mvn (Apache Maven) was not found" in result.stderr
    assert "apt-get install -y maven" in result.stderr


def test_kafka_refuses_a_two_node_cluster_and_a_node_outside_it(tmp_path: Path) -> None:
    env = {**os.environ, "LECTUREGEN_LOCAL_DIR": str(tmp_path)}
    two = subprocess.run(
        [str(find_repo_root() / "deploy/local/kafka.sh"), "--brokers", "2", "start"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    outside = subprocess.run(
        [str(find_repo_root() / "deploy/local/kafka.sh"), "--brokers", "3", "--node", "4", "stop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert two.returncode != 0
    assert "run 1 broker, or a cluster of 3 to 9" in two.stderr
    assert outside.returncode != 0
    assert "the cluster's nodes are 1 to 3" in outside.stderr


def test_a_cluster_start_names_a_taken_port_and_the_variables_to_move_it(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        others = [free_port() for _ in range(5)]
        env = {
            **os.environ,
            "LECTUREGEN_LOCAL_DIR": str(tmp_path),
            "LECTUREGEN_KAFKA_CLUSTER_PORTS": f"{others[0]},{port},{others[1]}",
            "LECTUREGEN_KAFKA_CLUSTER_CONTROLLER_PORTS": ",".join(map(str, others[2:])),
        }

        result = subprocess.run(
            [str(find_repo_root() / "deploy/local/kafka.sh"), "--brokers", "3", "start"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "kafka node 2 cannot listen there" in result.stderr
    assert "LECTUREGEN_KAFKA_CLUSTER_PORTS" in result.stderr
    assert not (tmp_path / "kafka-cluster" / "node-1" / "kafka.pid").exists(), "nothing started"

"""The provider-health job as a child process, and what it publishes: for tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from shared.envelope import decode
from shared.events import ProviderHealthChanged

FAST_BREAKER = {
    "LECTUREGEN_BREAKER_WINDOW_S": "10",
    "LECTUREGEN_BREAKER_STEP_S": "2",
    "LECTUREGEN_BREAKER_MIN_ASSETS": "4",
    "LECTUREGEN_BREAKER_MIN_FRESH_ASSETS": "3",
    "LECTUREGEN_BREAKER_OPEN_FOR_S": "3",
    "LECTUREGEN_BREAKER_PROBES": "2",
}


class HealthProcess:
    """`python -m provider_health` with a private namespace."""

    def __init__(self, bootstrap: str, namespace: str, data_dir: Path, **env: str) -> None:
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "LECTUREGEN_TOPIC_NAMESPACE": namespace,
            "LECTUREGEN_PROVIDER_HEALTH_DATA_DIR": str(data_dir),
            "LECTUREGEN_PROVIDER_HEALTH_METRICS_PORT": "0",
            "LECTUREGEN_PROVIDER_HEALTH_START_FROM": "earliest",
            "LECTUREGEN_PROVIDER_HEALTH_TICK_S": "0.5",
            "PYTHONWARNINGS": "ignore",
            **FAST_BREAKER,
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "provider_health"], env=self.env)

    @property
    def group_id(self) -> str:
        return f"{self.env['LECTUREGEN_TOPIC_NAMESPACE']}lecturegen-provider-health"

    async def ready(self, within_s: float = 90) -> None:
        """Return once the job's consumer group is stable (it reads the event log)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.env["KAFKA_BOOTSTRAP_SERVERS"])
        await admin.start()
        try:
            deadline = time.monotonic() + within_s
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError("provider-health is not running")
                for response in await admin.describe_consumer_groups([self.group_id]):
                    for group in response.groups:
                        if group[2] == "Stable" and group[5]:
                            return
                await asyncio.sleep(0.5)
        finally:
            await admin.close()
        raise TimeoutError(f"provider-health not ready within {within_s} s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            return self.process.wait(30)
        return self.process.returncode


async def next_state(
    reader: AIOKafkaConsumer, timeout_s: float = 60
) -> tuple[ProviderHealthChanged, float]:
    """The next health record and when it was read (monotonic)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batch = await reader.getmany(timeout_ms=200, max_records=1)
        for records in batch.values():
            for record in records:
                payload = decode(record.value, record.headers).payload
                assert isinstance(payload, ProviderHealthChanged)
                return payload, time.monotonic()
    raise AssertionError(f"no health change within {timeout_s} s")

"""Exit 0 once a Kafka client sees the broker at BOOTSTRAP; used by kafka.sh start.

usage: kafka_ready.py BOOTSTRAP TIMEOUT_S PID
Exit 1 on timeout (the last client error on stderr), 2 when process PID died first.
"""

import asyncio
import logging
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient


def _alive(pid: int) -> bool:
    """False once the process exited, even while it waits as a zombie to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


async def _broker_answers(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        if not cluster["brokers"]:
            raise RuntimeError("the metadata lists no broker yet")
    finally:
        await admin.close()


async def _wait(bootstrap: str, timeout_s: float, pid: int) -> int:
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        if not _alive(pid):
            return 2
        try:
            await asyncio.wait_for(_broker_answers(bootstrap), timeout=5)
        except Exception as exc:
            last_error = exc
            await asyncio.sleep(0.5)
        else:
            return 0
    print(f"last client error: {last_error!r}", file=sys.stderr)
    return 1


def main() -> int:
    bootstrap, timeout_s, pid = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    # Refused connections are expected while the broker boots; only the final error matters.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    return asyncio.run(_wait(bootstrap, timeout_s, pid))


if __name__ == "__main__":
    sys.exit(main())

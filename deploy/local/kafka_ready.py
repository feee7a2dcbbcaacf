"""Exit 0 once a Kafka client sees the broker at BOOTSTRAP; used by kafka.sh start.

usage: kafka_ready.py BOOTSTRAP TIMEOUT_S PID [NODE_ID]
With NODE_ID, the cluster's metadata must list that node (a cluster node is ready once it has
registered, which takes a majority of the controllers). Exit 1 on timeout (the last client
error on stderr), 2 when process PID died first.
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


async def _broker_answers(bootstrap: str, node_id: int | None) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        if not cluster["brokers"]:
            raise RuntimeError("the metadata lists no broker yet")
        if node_id is not None and node_id not in {b["node_id"] for b in cluster["brokers"]}:
            raise RuntimeError(f"the metadata does not list node {node_id} yet")
    finally:
        await admin.close()


async def _wait(bootstrap: str, timeout_s: float, pid: int, node_id: int | None) -> int:
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        if not _alive(pid):
            return 2
        try:
            await asyncio.wait_for(_broker_answers(bootstrap, node_id), timeout=5)
        except Exception as exc:
            last_error = exc
            await asyncio.sleep(0.5)
        else:
            return 0
    print(f"last client error: {last_error!r}", file=sys.stderr)
    return 1


def main() -> int:
    bootstrap, timeout_s, pid = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    node_id = int(sys.argv[4]) if len(sys.argv) > 4 else None
    # Refused connections are expected while the broker boots; only the final error matters.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    return asyncio.run(_wait(bootstrap, timeout_s, pid, node_id))


if __name__ == "__main__":
    sys.exit(main())

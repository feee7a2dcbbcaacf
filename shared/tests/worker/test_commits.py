"""The committer on an in-memory consumer: what it commits, and what it does when refused."""

from __future__ import annotations

from aiokafka import TopicPartition

from shared.kafka.fakes import InMemoryConsumer
from shared.retry import RetryPolicy
from shared.worker.commits import Committer
from shared.worker.partitions import PartitionQueue

TOPIC = "requests"
TP = TopicPartition(TOPIC, 0)


async def _assigned_consumer() -> InMemoryConsumer:
    consumer = InMemoryConsumer({TOPIC: 1})
    consumer.subscribe([TOPIC])
    await consumer.start()
    await consumer.getmany(timeout_ms=0)  # joins the group: the partition is assigned
    return consumer


def _queue(received: int) -> PartitionQueue:
    queue = PartitionQueue(TOPIC, 0, None, RetryPolicy())
    for offset in range(received):
        queue.offsets.received(offset)
    return queue


def _committer(consumer: InMemoryConsumer, failures: list[BaseException]) -> Committer:
    return Committer(consumer, 0.0, dict, failures.append)


async def test_the_watermark_is_committed_once_and_again_only_when_it_moves() -> None:
    consumer = await _assigned_consumer()
    queue = _queue(3)
    committer = _committer(consumer, [])

    queue.offsets.done(0)
    queue.offsets.done(2)  # offset 1 still runs: the commit stops before it
    await committer.commit({TP: queue})
    await committer.commit({TP: queue})
    assert consumer.commits == [{TP: 1}]

    queue.offsets.done(1)
    await committer.commit({TP: queue})
    assert consumer.commits == [{TP: 1}, {TP: 3}]
    assert queue.offsets.last_committed == 3


async def test_a_refused_commit_is_made_again_next_time() -> None:
    consumer = await _assigned_consumer()
    queue = _queue(1)
    queue.offsets.done(0)
    failures: list[BaseException] = []
    committer = _committer(consumer, failures)

    consumer.fail_commits = 1
    await committer.commit({TP: queue})  # refused during a rebalance: not fatal
    assert consumer.commits == []
    assert queue.offsets.last_committed is None

    await committer.commit({TP: queue})
    assert consumer.commits == [{TP: 1}]
    assert failures == []


async def test_a_commit_error_that_is_not_kafkas_stops_the_worker() -> None:
    class Broken(InMemoryConsumer):
        async def commit(self, offsets: object) -> None:
            raise OSError("disk gone")

    consumer = Broken({TOPIC: 1})
    queue = _queue(1)
    queue.offsets.done(0)
    failures: list[BaseException] = []
    committer = Committer(consumer, 0.0, lambda: {TP: queue}, failures.append)

    committer.wanted()
    await committer.loop()  # returns after reporting the failure
    assert [type(f) for f in failures] == [OSError]

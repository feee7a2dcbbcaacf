"""The dispatcher loop on an in-memory consumer: commands acknowledged before the commit, a
refused commit survived, undecodable events skipped."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition

from dispatcher.runner import Dispatcher
from shared import topics
from shared.envelope import decode
from shared.events import AssetPlan, GenerateAsset, LectureCreated, SegmentPlan
from shared.kafka.fakes import InMemoryConsumer
from shared.kafka.publisher import Acks
from shared.kafka.records import Outgoing
from shared.media import MediaKind
from shared.testing.waiting import until
from shared.worker.testing import event_record, running

EVENTS = topics.events()
EVENTS_0 = TopicPartition(EVENTS, 0)

pytestmark = pytest.mark.timeout(5)


class HeldPublisher:
    """A `Publisher` whose acknowledgements come only when the test releases them."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []
        self.acks: asyncio.Future[object] | None = None

    async def enqueue(self, records: list[Outgoing]) -> Acks:
        self.sent.extend(records)
        self.acks = asyncio.get_running_loop().create_future()
        return self.acks


def _lecture(lecture_id: str) -> Outgoing:
    created = LectureCreated(
        lecture_id=lecture_id,
        title="Tides",
        duration_s=10,
        segments=(SegmentPlan(segment_id="s1", start_s=0, duration_s=10),),
        assets=(
            AssetPlan(
                asset_id=f"{lecture_id}-img",
                kind=MediaKind.IMAGE,
                segment_id="s1",
                prompt="moon",
                model="m/img",
            ),
            AssetPlan(
                asset_id=f"{lecture_id}-mus",
                kind=MediaKind.MUSIC,
                prompt="calm",
                model="m/mus",
                duration_s=10,
            ),
        ),
    )
    return event_record(created)


async def test_a_batch_is_committed_only_after_its_commands_are_acknowledged() -> None:
    consumer = InMemoryConsumer({EVENTS: 1})
    publisher = HeldPublisher()
    dispatcher = Dispatcher(consumer, publisher)
    async with running(dispatcher, stop_within_s=2):
        consumer.append(_lecture("l1"), at=datetime.now(UTC))
        await until(lambda: publisher.acks is not None)
        await asyncio.sleep(0.02)
        assert consumer.commits == []  # the commands are not acknowledged yet

        assert publisher.acks is not None
        publisher.acks.set_result(None)
        await until(lambda: consumer.committed_offset(EVENTS_0) == 1)

    commands = [decode(o.value, o.headers).payload for o in publisher.sent]
    assert [c.asset_id for c in commands if isinstance(c, GenerateAsset)] == ["l1-img", "l1-mus"]
    assert [o.topic for o in publisher.sent] == [
        topics.requests(MediaKind.IMAGE),
        topics.requests(MediaKind.MUSIC),
    ]
    assert _sample(dispatcher, "commands", medium="image") == 1
    assert _sample(dispatcher, "commands", medium="music") == 1
    assert _sample(dispatcher, "commands", medium="video") == 0


async def test_a_commit_refused_after_a_rebalance_does_not_stop_the_loop() -> None:
    consumer = InMemoryConsumer({EVENTS: 1})
    publisher = HeldPublisher()
    dispatcher = Dispatcher(consumer, publisher)
    consumer.fail_commits = 1
    async with running(dispatcher, stop_within_s=2):
        consumer.append(_lecture("l1"), at=datetime.now(UTC))
        await until(lambda: publisher.acks is not None)
        first = publisher.acks
        assert first is not None
        first.set_result(None)
        await until(lambda: consumer.fail_commits == 0)
        assert consumer.commits == []

        consumer.append(_lecture("l2"), at=datetime.now(UTC))
        await until(lambda: publisher.acks is not first)
        assert publisher.acks is not None
        publisher.acks.set_result(None)
        await until(lambda: consumer.committed_offset(EVENTS_0) == 2)
    assert dispatcher.healthy is False  # stopped cleanly


async def test_undecodable_and_unwanted_events_are_skipped_and_committed() -> None:
    consumer = InMemoryConsumer({EVENTS: 1})
    publisher = HeldPublisher()
    dispatcher = Dispatcher(consumer, publisher)
    wanted = _lecture("l1")
    broken = Outgoing(EVENTS, b"l1", b"not json", wanted.headers)
    unwanted = Outgoing(EVENTS, b"l1", b"{}", [("ce_type", b"lecturegen.asset.generated.v1")])
    async with running(dispatcher, stop_within_s=2):
        consumer.append(broken, at=datetime.now(UTC))
        consumer.append(unwanted, at=datetime.now(UTC))
        await until(lambda: consumer.committed_offset(EVENTS_0) == 2)
    assert publisher.sent == []
    assert _sample(dispatcher, "events", result="rejected") == 1
    assert _sample(dispatcher, "events", result="skipped") == 1


def _sample(dispatcher: Dispatcher, counter: str, **labels: str) -> float | None:
    name = f"lecturegen_dispatcher_{counter}_total"
    return dispatcher.metrics.registry.get_sample_value(name, labels)

"""The completion feed on a real broker: it reads from the end it found at start, skips
records that are not completed predictions, and posts the rest to the board."""

from __future__ import annotations

import json

import pytest

from shared import topics
from shared.kafka import TopicSettings, create_topics, make_reader, provider_predictions_topic
from shared.kafka.records import Outgoing
from shared.settings import KafkaSettings
from shared.webhooks.completions import CompletionBoard
from shared.webhooks.feed import CompletionFeed
from shared.worker.testing import produce

pytestmark = pytest.mark.integration


def _record(topic: str, key: str, value: bytes) -> Outgoing:
    return Outgoing(topic, key.encode(), value, [])


def _done(prediction_id: str) -> bytes:
    return json.dumps({"id": prediction_id, "status": "succeeded", "output": "x"}).encode()


async def test_the_feed_posts_completions_written_after_it_started(
    kafka_bootstrap: str, unique_name: str
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}.")
    topic = topics.provider_predictions(kafka.topic_namespace)
    await create_topics(kafka, [provider_predictions_topic(kafka.topic_namespace, TopicSettings())])
    await produce(kafka, [_record(topic, "before", _done("before"))])
    board = CompletionBoard()
    feed = CompletionFeed(make_reader(kafka), topic, board)
    await feed.start()
    try:
        await produce(
            kafka,
            [
                _record(topic, "junk", b"not json"),
                _record(topic, "list", b"[1, 2]"),
                _record(topic, "after", _done("after")),
            ],
        )
        assert await board.wait("after", timeout_s=10) == json.loads(_done("after"))
        assert await board.wait("before", timeout_s=0.5) is None, "written before the start"
    finally:
        await feed.stop()

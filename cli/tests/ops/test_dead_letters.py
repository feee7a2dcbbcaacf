import json

import pytest
from aiokafka import AIOKafkaProducer

from lecturegen_cli.ops.dead_letters import dead_letter_lines, describe, read_dead_letters
from shared import topics
from shared.kafka import TopicSettings, create_topics, medium_topics
from shared.media import MediaKind
from shared.retry import RetryPolicy
from shared.settings import KafkaSettings

EXHAUSTED_HEADERS = [
    ("ce_type", b"lecturegen.command.generate-asset.v1"),
    ("lg_dlt_reason", b"exhausted"),
    ("lg_error_code", b"TRANSIENT_PROVIDER_ERROR"),
    ("lg_error_message", b"Service is temporarily unavailable."),
    ("lg_original_topic", b"lecturegen.video.requests.v1"),
    ("lg_original_partition", b"3"),
    ("lg_original_offset", b"17"),
]
REQUEST = {"asset_id": "a1", "lecture_id": "l1", "prompt_version": 2, "kind": "video"}


def test_a_dead_letter_names_its_reason_error_asset_and_origin() -> None:
    letter = describe(
        MediaKind.VIDEO, 0, 5, 0, b"a1", json.dumps(REQUEST).encode(), EXHAUSTED_HEADERS
    )
    assert (letter.reason, letter.error_code) == ("exhausted", "TRANSIENT_PROVIDER_ERROR")
    assert (letter.asset_id, letter.lecture_id, letter.prompt_version) == ("a1", "l1", 2)
    assert letter.original == "lecturegen.video.requests.v1:3:17"
    assert letter.time == "1970-01-01T00:00:00+00:00"
    assert any(
        "Service is temporarily unavailable." in line for line in dead_letter_lines([letter])
    )


def test_a_poison_record_is_described_from_its_key_and_headers_alone() -> None:
    letter = describe(
        MediaKind.IMAGE,
        0,
        0,
        0,
        b"a9",
        b"\xff not json",
        [("lg_dlt_reason", b"poison"), ("lg_error_message", b"invalid payload")],
    )
    assert (letter.reason, letter.asset_id, letter.lecture_id) == ("poison", "a9", None)
    assert letter.original is None
    assert letter.error_message == "invalid payload"


@pytest.mark.integration
async def test_reading_the_dead_letter_topics_returns_their_latest_records(
    kafka_bootstrap: str, unique_name: str
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_namespace=f"t{unique_name}.")
    counts = TopicSettings(request_partitions=1, tier_partitions=1, dead_letter_partitions=1)
    policy = RetryPolicy(max_retries=0, base_delay_s=1, max_tier_s=1)
    await create_topics(
        kafka, medium_topics(MediaKind.VIDEO, policy, kafka.topic_namespace, counts)
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for version in (1, 2, 3):
            value = json.dumps({**REQUEST, "prompt_version": version}).encode()
            await producer.send_and_wait(
                topics.dead_letter(MediaKind.VIDEO, kafka.topic_namespace),
                value,
                key=b"a1",
                headers=EXHAUSTED_HEADERS,
            )
    finally:
        await producer.stop()

    letters = await read_dead_letters(kafka, [MediaKind.VIDEO, MediaKind.MUSIC], limit=2)

    assert [(d.kind, d.offset, d.prompt_version) for d in letters] == [
        ("video", 1, 2),
        ("video", 2, 3),
    ]

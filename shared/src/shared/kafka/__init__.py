"""Kafka, the one way lecturegen uses it: clients and topic creation (`clients`), the records
read and written (`records`), producing with acknowledgements (`publisher`), the consumer port
the consuming loops run on (`consumer`) and its in-memory fake (`fakes`)."""

from shared.kafka.clients import (
    EVENTS_MAX_MESSAGE_BYTES,
    TopicSettings,
    TopicSpec,
    create_topics,
    ensure_topics,
    events_topic,
    make_admin,
    make_consumer,
    make_producer,
    make_reader,
    max_message_bytes,
    medium_topics,
    provider_health_topic,
    provider_predictions_topic,
    wait_for_leaders,
)
from shared.kafka.publisher import Acks, KafkaPublisher, Publisher, publish
from shared.kafka.records import Headers, Outgoing, Record, header

__all__ = [
    "EVENTS_MAX_MESSAGE_BYTES",
    "Acks",
    "Headers",
    "KafkaPublisher",
    "Outgoing",
    "Publisher",
    "Record",
    "TopicSettings",
    "TopicSpec",
    "create_topics",
    "ensure_topics",
    "events_topic",
    "header",
    "make_admin",
    "make_consumer",
    "make_producer",
    "make_reader",
    "max_message_bytes",
    "medium_topics",
    "provider_health_topic",
    "provider_predictions_topic",
    "publish",
    "wait_for_leaders",
]

import os
from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from shared.settings import (
    BlobSettings,
    KafkaSettings,
    Port,
    PostgresSettings,
    ProviderSettings,
    ServiceSettings,
)

TOKEN = "r8_Xk2bT9qLmN4pR7sV1wY3zA5cE8gH0jK6uD2fQ"
NAMED_BY_DESIGN = (
    "REPLICATE_API_TOKEN",
    "REPLICATE_BASE_URL",
    "KAFKA_BOOTSTRAP_SERVERS",
    "DATABASE_URL",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment without any lecturegen setting, so defaults show."""
    for name in os.environ:
        if name.startswith("LECTUREGEN_") or name in NAMED_BY_DESIGN:
            monkeypatch.delenv(name)
    return monkeypatch


def test_kafka_settings_default_to_the_local_broker_without_a_namespace(
    env: pytest.MonkeyPatch,
) -> None:
    kafka = KafkaSettings()

    assert (kafka.bootstrap_servers, kafka.topic_namespace) == ("127.0.0.1:19092", "")


def test_kafka_settings_read_the_bootstrap_servers_under_either_name(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker-a:9092")
    assert KafkaSettings().bootstrap_servers == "broker-a:9092"

    env.setenv("LECTUREGEN_KAFKA_BOOTSTRAP_SERVERS", "broker-b:9092")
    assert KafkaSettings().bootstrap_servers == "broker-b:9092"


def test_kafka_settings_read_the_topic_namespace(env: pytest.MonkeyPatch) -> None:
    env.setenv("LECTUREGEN_TOPIC_NAMESPACE", "staging.")

    assert KafkaSettings().topic_namespace == "staging."


def test_settings_can_be_built_in_code_by_field_name(env: pytest.MonkeyPatch) -> None:
    assert KafkaSettings(topic_namespace="t1.").topic_namespace == "t1."


def test_postgres_settings_read_database_url(env: pytest.MonkeyPatch) -> None:
    env.setenv("DATABASE_URL", "postgresql://u@db:5432/lg")

    assert PostgresSettings().dsn == "postgresql://u@db:5432/lg"


def test_the_replicate_token_is_read_but_never_shown(env: pytest.MonkeyPatch) -> None:
    env.setenv("REPLICATE_API_TOKEN", TOKEN)

    provider = ProviderSettings()

    assert provider.api_token is not None
    assert provider.api_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(provider)
    assert TOKEN not in provider.model_dump_json()


def test_without_a_token_the_provider_settings_have_none(env: pytest.MonkeyPatch) -> None:
    assert ProviderSettings().api_token is None


def test_allowed_output_hosts_read_a_comma_separated_list(env: pytest.MonkeyPatch) -> None:
    env.setenv("LECTUREGEN_ALLOWED_OUTPUT_HOSTS", "replicate.delivery, 127.0.0.1 ,")

    assert ProviderSettings().allowed_output_hosts == ("replicate.delivery", "127.0.0.1")


def test_allowed_output_hosts_read_a_json_list(env: pytest.MonkeyPatch) -> None:
    env.setenv("LECTUREGEN_ALLOWED_OUTPUT_HOSTS", '["a.example", "b.example"]')

    assert ProviderSettings().allowed_output_hosts == ("a.example", "b.example")


def test_settings_are_read_when_built_not_when_imported(env: pytest.MonkeyPatch) -> None:
    first = ProviderSettings().deadline_s
    env.setenv("LECTUREGEN_PROVIDER_DEADLINE_S", "12.5")

    assert (first, ProviderSettings().deadline_s) == (600.0, 12.5)


def test_blob_settings_default_to_the_filesystem(env: pytest.MonkeyPatch) -> None:
    blobs = BlobSettings()

    assert (blobs.backend, blobs.root) == ("filesystem", Path(".local/media"))


class _ToyServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LECTUREGEN_TOY_")

    metrics_port: Port = 9199


def test_a_service_reads_its_probe_and_log_settings_under_its_own_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LECTUREGEN_METRICS_HOST", "0.0.0.0")
    monkeypatch.setenv("LECTUREGEN_TOY_LOG_LEVEL", "DEBUG")

    settings = _ToyServiceSettings()

    assert (settings.metrics_host, settings.metrics_port, settings.log_level) == (
        "0.0.0.0",
        9199,
        "DEBUG",
    )


def test_a_service_s_own_default_port_still_refuses_a_port_that_cannot_be(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LECTUREGEN_TOY_METRICS_PORT", "70000")

    with pytest.raises(ValidationError):
        _ToyServiceSettings()

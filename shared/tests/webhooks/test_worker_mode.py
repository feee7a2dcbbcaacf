"""Without `LECTUREGEN_WEBHOOK_URL` a worker polls, exactly as before: no webhook wait, no feed."""

from __future__ import annotations

import pytest

from shared.kafka import TopicSettings
from shared.settings import KafkaSettings
from shared.webhooks.settings import WebhookSettings
from shared.webhooks.worker_mode import open_webhook_wait


async def test_without_a_url_there_is_no_webhook_wait_and_kafka_is_not_touched() -> None:
    unreachable = KafkaSettings(bootstrap_servers="127.0.0.1:1")
    async with open_webhook_wait(WebhookSettings(), unreachable, TopicSettings()) as wait:
        assert wait is None


def test_the_settings_read_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LECTUREGEN_WEBHOOK_URL", "https://api.example/v1/webhooks/replicate")
    monkeypatch.setenv("LECTUREGEN_WEBHOOK_FALLBACK_POLL_S", "90")
    monkeypatch.setenv("LECTUREGEN_WORKER_MAX_OUTSTANDING", "500")
    settings = WebhookSettings()
    assert settings.url == "https://api.example/v1/webhooks/replicate"
    assert (settings.fallback_poll_s, settings.max_outstanding) == (90, 500)

"""Every Kafka topic name of lecturegen, built in this one module (DESIGN §4, §5)."""

from __future__ import annotations

from collections.abc import Iterable

from shared.media import MediaKind

EVENTS = "lecturegen.events.v1"


def requests(kind: MediaKind, namespace: str = "") -> str:
    """The request topic of one medium, keyed by asset id."""
    return f"{namespace}lecturegen.{kind.value}.requests.v1"


def retry_tier(kind: MediaKind, delay_ms: int, namespace: str = "") -> str:
    """The fixed-delay retry tier topic of one medium, e.g. `lecturegen.image.retry.5s.v1`."""
    return f"{namespace}lecturegen.{kind.value}.retry.{tier_label(delay_ms)}.v1"


def retry_tiers(kind: MediaKind, tiers_ms: Iterable[int], namespace: str = "") -> dict[int, str]:
    """The retry tier topics of one medium by delay (ms), e.g. from `RetryPolicy.tiers_ms`."""
    return {delay_ms: retry_tier(kind, delay_ms, namespace) for delay_ms in tiers_ms}


def dead_letter(kind: MediaKind, namespace: str = "") -> str:
    """The dead-letter topic of one medium: poison and exhausted requests."""
    return f"{namespace}lecturegen.{kind.value}.dlt.v1"


def events(namespace: str = "") -> str:
    """The event log, keyed by lecture id."""
    return f"{namespace}{EVENTS}"


def provider_predictions(namespace: str = "") -> str:
    """Provider webhook completions, keyed by prediction id: the verified webhook body."""
    return f"{namespace}lecturegen.provider.predictions.v1"


def provider_health(namespace: str = "") -> str:
    """Circuit states per provider and model (compacted), keyed `<provider>/<model>`."""
    return f"{namespace}lecturegen.provider-health.v1"


def tier_label(delay_ms: int) -> str:
    """`5000` → `5s`, `250` → `250ms`: whole seconds where the delay allows."""
    return f"{delay_ms // 1000}s" if delay_ms % 1000 == 0 else f"{delay_ms}ms"

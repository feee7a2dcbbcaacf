from datetime import UTC, datetime

import pytest

from shared.errors import GenerationError
from shared.events import AssetFailed, AssetGenerated, AssetRetrying, MediaRef
from shared.health.breaker import Outcome
from shared.health.outcomes import CIRCUIT_OPEN, observe_event
from shared.media import MediaKind

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ASSET = {"lecture_id": "l1", "asset_id": "a1", "kind": MediaKind.IMAGE, "prompt_version": 1}


def _retrying(error: GenerationError, model: str | None = "acme/painter") -> AssetRetrying:
    return AssetRetrying(
        **ASSET,
        attempt=1,
        retried_count=1,
        delay_s=1,
        next_attempt_at=T0,
        error=error.info,
        model=model,
    )


def test_a_generated_asset_is_a_success_of_its_model() -> None:
    media = MediaRef(blob_key="k", content_type="image/png", size_bytes=1)
    event = AssetGenerated(
        **ASSET, media=media, prompt="p", model="acme/painter", provider="replicate", attempts=1
    )

    seen = observe_event(event)

    assert seen is not None
    assert (seen.key, seen.outcome) == ("replicate/acme/painter", Outcome.SUCCEEDED)


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (GenerationError.transient("503", provider="replicate"), Outcome.FAILED),
        (GenerationError.unknown("??", provider="replicate"), Outcome.FAILED),
        (GenerationError.rate_limited("429", provider="replicate"), Outcome.RATE_LIMITED),
    ],
)
def test_a_retry_counts_by_its_error(error: GenerationError, outcome: Outcome) -> None:
    seen = observe_event(_retrying(error))
    assert seen is not None
    assert seen.outcome is outcome


def test_a_retry_of_a_v1_event_without_a_model_counts_for_nothing() -> None:
    assert observe_event(_retrying(GenerationError.transient("503"), model=None)) is None


def test_a_models_own_failure_and_the_breakers_own_verdict_say_nothing_about_health() -> None:
    crash = GenerationError.provider_failure("E1001", provider="replicate")
    verdict = GenerationError.transient("unavailable", provider_code=CIRCUIT_OPEN)
    for error in (crash, verdict):
        event = AssetFailed(
            **ASSET, error=error.info, prompt="p", model="m", retried_count=0, attempts=1
        )
        assert observe_event(event) is None

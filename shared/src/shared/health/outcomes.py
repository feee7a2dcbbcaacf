"""What an event of the log says about a provider's health: the breaker's only input.

Only events of a provider call count. A refused prompt counts as a success (the provider
answered); a model's own crash or a configuration error says nothing about the provider's
health; a failure the breaker itself decided (`CIRCUIT_OPEN`) was no call at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import ErrorCode, ErrorInfo
from shared.events import (
    AssetFailed,
    AssetGenerated,
    AssetNeedsPromptUpdate,
    AssetRetrying,
    Payload,
)
from shared.health.breaker import Outcome, asset_token

CIRCUIT_OPEN = "CIRCUIT_OPEN"
"""`provider_code` of a failure decided by the breaker, not answered by a provider."""
UNKNOWN_PROVIDER = "replicate"
"""The provider of an event that does not name one (every call so far went to Replicate)."""


@dataclass(frozen=True, slots=True)
class Observation:
    provider: str
    model: str
    outcome: Outcome
    asset: str = ""
    """The asset version's token (`asset_token`): the breaker counts distinct assets."""

    @property
    def key(self) -> str:
        """`<provider>/<model>`: the key of the health topic and of the breaker's tables."""
        return circuit_key(self.provider, self.model)


def circuit_key(provider: str, model: str) -> str:
    return f"{provider}/{model}"


def split_key(key: str) -> tuple[str, str]:
    provider, _, model = key.partition("/")
    return provider, model


def observe_event(payload: Payload) -> Observation | None:
    """The observation an event carries, or None when it carries none."""
    if isinstance(payload, AssetGenerated):
        provider = payload.provider or UNKNOWN_PROVIDER
        return Observation(provider, payload.model, Outcome.SUCCEEDED, _token(payload))
    if isinstance(payload, AssetNeedsPromptUpdate):
        return _with(payload, payload.error, payload.model, Outcome.SUCCEEDED)
    if isinstance(payload, AssetRetrying | AssetFailed):
        outcome = _outcome(payload.error)
        if outcome is None or payload.model is None:
            return None
        return _with(payload, payload.error, payload.model, outcome)
    return None


def _outcome(error: ErrorInfo) -> Outcome | None:
    if error.provider_code == CIRCUIT_OPEN:
        return None
    if error.code is ErrorCode.RATE_LIMITED:
        return Outcome.RATE_LIMITED
    if error.code in (ErrorCode.TRANSIENT_PROVIDER_ERROR, ErrorCode.UNKNOWN):
        return Outcome.FAILED
    return None


_AssetOutcome = AssetGenerated | AssetNeedsPromptUpdate | AssetRetrying | AssetFailed


def _with(payload: _AssetOutcome, error: ErrorInfo, model: str, outcome: Outcome) -> Observation:
    return Observation(error.provider or UNKNOWN_PROVIDER, model, outcome, _token(payload))


def _token(payload: _AssetOutcome) -> str:
    return asset_token(payload.asset_id, payload.prompt_version)

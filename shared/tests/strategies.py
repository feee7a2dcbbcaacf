"""Hypothesis strategies for every payload type and for envelopes around them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from shared.envelope import Envelope, envelop
from shared.errors import ErrorCode, ErrorInfo
from shared.events import (
    AssetAttemptStarted,
    AssetFailed,
    AssetGenerated,
    AssetNeedsPromptUpdate,
    AssetPlan,
    AssetRegenerationRequested,
    AssetRetrying,
    GenerateAsset,
    HealthWindow,
    LectureCreated,
    MediaRef,
    Payload,
    ProviderHealthChanged,
    SegmentPlan,
)
from shared.media import MediaKind

texts = st.text(max_size=40)
ids = st.text(min_size=1, max_size=40)
optional_ids = st.none() | ids
kinds = st.sampled_from(MediaKind)
counts = st.integers(1, 50)
non_negative = st.floats(0, 1e6, allow_nan=False)
positive = st.floats(0, 1e6, allow_nan=False, exclude_min=True)
offsets = st.builds(timezone, st.integers(-14 * 60, 14 * 60).map(lambda m: timedelta(minutes=m)))
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC) | offsets
)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
params = st.dictionaries(texts, json_values, max_size=4)
errors = st.builds(
    ErrorInfo,
    code=st.sampled_from(ErrorCode),
    message=texts,
    provider=st.none() | texts,
    provider_code=st.none() | texts,
    retryable=st.booleans(),
    user_action_required=st.booleans(),
    retry_after_s=st.none() | non_negative,
)

asset_fields: dict[str, st.SearchStrategy[Any]] = {
    "lecture_id": ids,
    "asset_id": ids,
    "kind": kinds,
    "segment_id": optional_ids,
    "prompt_version": counts,
    "correlation_id": optional_ids,
}
outcome_fields: dict[str, st.SearchStrategy[Any]] = {
    "error": errors,
    "prompt": texts,
    "model": texts,
    "retried_count": st.integers(0, 10),
    "attempts": counts,
}

PAYLOADS: dict[type[Payload], st.SearchStrategy[Payload]] = {
    LectureCreated: st.builds(
        LectureCreated,
        lecture_id=ids,
        title=texts,
        duration_s=non_negative,
        segments=st.lists(
            st.builds(
                SegmentPlan,
                segment_id=ids,
                title=st.none() | texts,
                start_s=non_negative,
                duration_s=positive,
            ),
            max_size=3,
        ).map(tuple),
        assets=st.lists(
            st.builds(
                AssetPlan,
                asset_id=ids,
                kind=kinds,
                segment_id=optional_ids,
                prompt=texts,
                model=texts,
                params=params,
                duration_s=st.none() | positive,
            ),
            max_size=3,
        ).map(tuple),
    ),
    AssetRegenerationRequested: st.builds(
        AssetRegenerationRequested,
        **asset_fields,
        prompt=texts,
        model=texts,
        params=params,
        duration_s=st.none() | positive,
    ),
    AssetAttemptStarted: st.builds(
        AssetAttemptStarted, **asset_fields, attempt=counts, started_at=instants
    ),
    AssetRetrying: st.builds(
        AssetRetrying,
        **asset_fields,
        attempt=counts,
        retried_count=counts,
        delay_s=non_negative,
        next_attempt_at=instants,
        error=errors,
        model=st.none() | texts,
        waiting_for=st.sampled_from([None, "provider"]),
    ),
    ProviderHealthChanged: st.builds(
        ProviderHealthChanged,
        provider=texts,
        model=texts,
        state=st.sampled_from(["closed", "open", "half_open"]),
        since=instants,
        reason=texts,
        window=st.builds(HealthWindow, attempts=counts, failures=counts, rate_limited=counts),
        unavailable_since=st.none() | instants,
    ),
    AssetGenerated: st.builds(
        AssetGenerated,
        **asset_fields,
        media=st.builds(
            MediaRef,
            blob_key=ids,
            content_type=texts,
            size_bytes=st.integers(0, 2**40),
            duration_s=st.none() | non_negative,
        ),
        prompt=texts,
        model=texts,
        provider=st.none() | texts,
        prediction_id=optional_ids,
        attempts=counts,
        retried_count=st.integers(0, 10),
    ),
    AssetFailed: st.builds(AssetFailed, **asset_fields, **outcome_fields),
    AssetNeedsPromptUpdate: st.builds(AssetNeedsPromptUpdate, **asset_fields, **outcome_fields),
    GenerateAsset: st.builds(
        GenerateAsset,
        command_id=ids,
        lecture_id=ids,
        asset_id=ids,
        kind=kinds,
        segment_id=optional_ids,
        prompt_version=counts,
        prompt=texts,
        model=texts,
        params=params,
        duration_s=st.none() | positive,
        requested_at=instants,
        correlation_id=ids,
    ),
}


def envelopes(payloads: st.SearchStrategy[Payload]) -> st.SearchStrategy[Envelope]:
    """Envelopes made the way producers make them: `envelop` with a source and a time."""
    return st.builds(envelop, payloads, source=ids, correlation_id=optional_ids, now=instants)

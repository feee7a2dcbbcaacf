from __future__ import annotations

import httpx
import pytest
from pydantic import v1 as pydantic_v1
from replicate.exceptions import ModelError, ReplicateError, ReplicateException
from replicate.prediction import Prediction

from shared.errors import ErrorCode
from shared.providers.classify import (
    classify_api_error,
    classify_exception,
    classify_prediction,
    classify_prediction_error,
)


def _prediction_json(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "p1",
        "model": "black-forest-labs/flux-schnell",
        "version": "hidden",
        "status": "processing",
        "input": {"prompt": "a cat"},
        "output": None,
        "logs": "",
        "error": None,
        "metrics": {},
        "created_at": "2026-01-01T00:00:00Z",
        "started_at": None,
        "completed_at": None,
        "urls": {},
    }
    return {**base, **fields}


# --- billing and moderation before anything generic ----------------------------------------


def test_billing_trouble_is_configuration_even_when_it_comes_as_a_throttle() -> None:
    error = classify_api_error(429, "Insufficient credit", "You have insufficient credit.")
    assert error.code is ErrorCode.PROVIDER_CONFIGURATION
    assert not error.retryable


def test_moderation_in_an_api_answer_is_sensitive_content_not_invalid_input() -> None:
    detail = "The input or output was flagged as sensitive. (E005)"
    error = classify_api_error(422, "Input validation failed", detail)
    assert error.code is ErrorCode.SENSITIVE_CONTENT
    assert error.user_action_required


def test_moderation_wins_over_a_memory_error_named_in_the_same_text() -> None:
    error = classify_prediction_error("flagged as sensitive (E005); worker out of memory")
    assert error.code is ErrorCode.SENSITIVE_CONTENT


# --- hints, unknowns, messages, context ------------------------------------------------------


def test_a_retry_after_header_is_used_when_the_text_names_no_time() -> None:
    error = classify_api_error(429, None, "Request was throttled.", retry_after_header="12")
    assert error.code is ErrorCode.RATE_LIMITED
    assert error.retry_after_s == 12


def test_the_longer_of_header_and_text_hint_wins() -> None:
    detail = "Request was throttled. Your rate limit resets in ~30s."
    error = classify_api_error(429, None, detail, retry_after_header="5")
    assert error.retry_after_s == 30


def test_a_throttle_without_any_hint_has_no_retry_after() -> None:
    assert classify_api_error(429, None, "Request was throttled.").retry_after_s is None


def test_an_unlisted_http_status_is_unknown_and_keeps_the_status_as_provider_code() -> None:
    error = classify_api_error(418, "I am a teapot", "Short and stout")
    assert (error.code, error.provider_code, error.retryable) == (ErrorCode.UNKNOWN, "418", True)


def test_an_unlisted_error_code_is_unknown_but_named() -> None:
    error = classify_prediction_error("Director: unexpected error handling prediction (E7777)")
    assert (error.code, error.provider_code) == (ErrorCode.UNKNOWN, "E7777")


def test_a_prediction_that_succeeded_with_output_is_no_error() -> None:
    assert classify_prediction("succeeded", None, ["https://replicate.delivery/x.png"]) is None


def test_an_unexpected_status_is_unknown() -> None:
    error = classify_prediction("paused", None, None)
    assert error is not None
    assert error.code is ErrorCode.UNKNOWN


def test_context_keeps_prompt_preview_and_prediction_but_not_secrets() -> None:
    context = {"prompt_preview": "a cat", "prediction_id": "p1", "api_token": "r8_abcdefghijkl"}
    error = classify_prediction_error("Prediction failed.", context=context)
    assert error.context["prompt_preview"] == "a cat"
    assert error.context["prediction_id"] == "p1"
    assert "r8_abcdefghijkl" not in str(error.context)


# --- exceptions ---------------------------------------------------------------------------------


def test_a_replicate_error_is_classified_by_its_status_and_words() -> None:
    exc = ReplicateError(status=422, title="Input validation failed", detail="- input.prompt")
    error = classify_exception(exc)
    assert (error.code, error.provider_code) == (ErrorCode.INVALID_INPUT, "422")
    assert error.context["exception"] == "ReplicateError"


def test_a_model_error_is_classified_by_its_prediction_error_text() -> None:
    prediction = Prediction.parse_obj(
        _prediction_json(status="failed", error="(code: PA) interrupted")
    )
    error = classify_exception(ModelError(prediction))
    assert (error.code, error.provider_code) == (ErrorCode.TRANSIENT_PROVIDER_ERROR, "PA")


def test_an_aborted_prediction_the_client_cannot_parse_is_transient() -> None:
    with pytest.raises(pydantic_v1.ValidationError) as raised:
        Prediction.parse_obj(_prediction_json(status="aborted"))
    error = classify_exception(raised.value)
    assert (error.code, error.provider_code) == (ErrorCode.TRANSIENT_PROVIDER_ERROR, "aborted")


def test_a_prediction_unreadable_for_another_reason_is_unknown() -> None:
    with pytest.raises(pydantic_v1.ValidationError) as raised:
        Prediction.parse_obj(_prediction_json(id=None))
    assert classify_exception(raised.value).code is ErrorCode.UNKNOWN


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("server disconnected"),
        TimeoutError(),
    ],
)
def test_network_failures_and_timeouts_are_transient(exc: BaseException) -> None:
    error = classify_exception(exc)
    assert error.code is ErrorCode.TRANSIENT_PROVIDER_ERROR
    assert error.retryable


def test_a_failed_download_is_transient() -> None:
    request = httpx.Request("GET", "https://replicate.delivery/x.png")
    response = httpx.Response(502, request=request)
    exc = httpx.HTTPStatusError("bad gateway", request=request, response=response)
    error = classify_exception(exc)
    assert error.code is ErrorCode.TRANSIENT_PROVIDER_ERROR
    assert "502" in error.message


def test_anything_else_is_unknown() -> None:
    error = classify_exception(ReplicateException("something odd"))
    assert (error.code, error.retryable) == (ErrorCode.UNKNOWN, True)
    assert "something odd" in error.message

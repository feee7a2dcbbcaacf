import copy
import pickle
from collections.abc import Callable

import pytest

from shared.errors import REDACTED, ErrorCode, ErrorInfo, GenerationError, redact

# DESIGN §3: code → (retryable, user_action_required).
DESIGN_TABLE = [
    (ErrorCode.SENSITIVE_CONTENT, False, True),
    (ErrorCode.INVALID_INPUT, False, True),
    (ErrorCode.RATE_LIMITED, True, False),
    (ErrorCode.TRANSIENT_PROVIDER_ERROR, True, False),
    (ErrorCode.PROVIDER_FAILURE, False, False),
    (ErrorCode.PROVIDER_CONFIGURATION, False, False),
    (ErrorCode.UNKNOWN, True, False),
]

CONSTRUCTORS: list[tuple[Callable[..., GenerationError], ErrorCode]] = [
    (GenerationError.sensitive_content, ErrorCode.SENSITIVE_CONTENT),
    (GenerationError.invalid_input, ErrorCode.INVALID_INPUT),
    (GenerationError.rate_limited, ErrorCode.RATE_LIMITED),
    (GenerationError.transient, ErrorCode.TRANSIENT_PROVIDER_ERROR),
    (GenerationError.provider_failure, ErrorCode.PROVIDER_FAILURE),
    (GenerationError.configuration, ErrorCode.PROVIDER_CONFIGURATION),
    (GenerationError.unknown, ErrorCode.UNKNOWN),
]

TOKEN = "r8_Xk2bT9qLmN4pR7sV1wY3zA5cE8gH0jK6uD2fQ"


def test_the_design_table_names_every_error_code() -> None:
    assert {code for code, _, _ in DESIGN_TABLE} == set(ErrorCode)


@pytest.mark.parametrize(("code", "retryable", "user_action"), DESIGN_TABLE)
def test_each_code_defaults_to_the_retryable_and_user_action_of_the_design_table(
    code: ErrorCode, retryable: bool, user_action: bool
) -> None:
    error = GenerationError(code, "it went wrong")

    assert (error.retryable, error.user_action_required) == (retryable, user_action)


def test_explicit_retryable_and_user_action_override_the_code_defaults() -> None:
    error = GenerationError(
        ErrorCode.PROVIDER_FAILURE, "crashed", retryable=True, user_action_required=True
    )

    assert (error.retryable, error.user_action_required) == (True, True)


@pytest.mark.parametrize(("build", "code"), CONSTRUCTORS)
def test_each_one_line_constructor_builds_its_code_and_keeps_the_given_fields(
    build: Callable[..., GenerationError], code: ErrorCode
) -> None:
    error = build(
        "the provider said no",
        provider="replicate",
        provider_code="E123",
        retry_after_s=7.0,
        context={"prediction_id": "p1"},
    )

    assert error.code is code
    assert error.message == str(error) == "the provider said no"
    assert (error.provider, error.provider_code, error.retry_after_s) == ("replicate", "E123", 7.0)
    assert error.context == {"prediction_id": "p1"}


def test_the_constructors_cover_every_error_code() -> None:
    assert {code for _, code in CONSTRUCTORS} == set(ErrorCode)


def test_context_redacts_values_under_secret_looking_keys() -> None:
    context = {
        "api_token": "anything",
        "Authorization": "whatever",
        "password": "hunter2",
        "client_secret": "s",
        "x-api-key": "k",
        "Cookie": "sid=1",
        "prompt_preview": "a cat",
    }

    assert GenerationError.unknown("x", context=context).context == {
        "api_token": REDACTED,
        "Authorization": REDACTED,
        "password": REDACTED,
        "client_secret": REDACTED,
        "x-api-key": REDACTED,
        "Cookie": REDACTED,
        "prompt_preview": "a cat",
    }


def test_context_redacts_replicate_tokens_and_bearer_values_inside_innocent_keys() -> None:
    context = {
        "request": f"POST /v1/predictions with {TOKEN} attached",
        "header_line": "Authorization: Bearer abc.def-ghi_jkl",
        "duration_s": 1.5,
    }

    assert GenerationError.unknown("x", context=context).context == {
        "request": f"POST /v1/predictions with {REDACTED} attached",
        "header_line": f"Authorization: {REDACTED}",
        "duration_s": 1.5,
    }


def test_context_redacts_secrets_nested_in_mappings_lists_and_tuples() -> None:
    context = {
        "http": {"headers": {"authorization": "Bearer zzzzzzzzzz"}, "url": "https://x/y"},
        "attempts": [{"note": f"used {TOKEN}"}, ("Token abcdefghij", 3)],
    }

    assert redact(context) == {
        "http": {"headers": {"authorization": REDACTED}, "url": "https://x/y"},
        "attempts": [{"note": f"used {REDACTED}"}, (REDACTED, 3)],
    }


def test_redacting_leaves_the_callers_context_unchanged() -> None:
    context = {"nested": {"token": "t"}}

    GenerationError.unknown("x", context=context)

    assert context == {"nested": {"token": "t"}}


def test_a_token_quoted_in_the_message_is_redacted_too() -> None:
    error = GenerationError.configuration(f"invalid token {TOKEN}")

    assert error.message == f"invalid token {REDACTED}"
    assert TOKEN not in str(error)


def test_info_carries_every_field_but_the_log_only_context() -> None:
    error = GenerationError.rate_limited(
        "throttled",
        provider="replicate",
        provider_code="429",
        retry_after_s=30.0,
        context={"prompt_preview": "secret plans"},
    )

    assert error.info.model_dump() == {
        "code": ErrorCode.RATE_LIMITED,
        "message": "throttled",
        "provider": "replicate",
        "provider_code": "429",
        "retryable": True,
        "user_action_required": False,
        "retry_after_s": 30.0,
    }
    assert "secret plans" not in error.info.model_dump_json()


@pytest.mark.parametrize(("build", "code"), CONSTRUCTORS)
def test_from_info_round_trips_the_event_form_of_every_code(
    build: Callable[..., GenerationError], code: ErrorCode
) -> None:
    error = build("m", provider="replicate", provider_code="E1", retry_after_s=2.5)

    rebuilt = GenerationError.from_info(error.info)

    assert rebuilt.info == error.info
    assert rebuilt.code is code
    assert rebuilt.context == {}


def test_from_info_keeps_an_overridden_classification() -> None:
    info = ErrorInfo(
        code=ErrorCode.UNKNOWN, message="m", retryable=False, user_action_required=True
    )

    assert GenerationError.from_info(info).info == info


def test_error_info_reads_json_with_fields_it_does_not_know_yet() -> None:
    info = ErrorInfo.model_validate_json(
        '{"code": "UNKNOWN", "message": "m", "retryable": true,'
        ' "user_action_required": false, "added_later": 1}'
    )

    assert info.code is ErrorCode.UNKNOWN


def test_an_error_survives_copy_and_pickle_with_all_its_fields() -> None:
    error = GenerationError.transient("boom", provider_code="E6716", context={"id": "p1"})

    for clone in (copy.copy(error), pickle.loads(pickle.dumps(error))):
        assert clone.info == error.info
        assert clone.context == error.context


def test_repr_names_the_code_message_and_provider_code() -> None:
    error = GenerationError.sensitive_content("flagged", provider_code="E005")

    assert repr(error) == (
        "GenerationError(SENSITIVE_CONTENT, 'flagged', provider_code='E005', retryable=False)"
    )


@pytest.mark.parametrize("hint", [-1.0, float("nan"), float("inf")])
def test_a_retry_after_hint_that_is_negative_or_not_finite_is_dropped(hint: float) -> None:
    error = GenerationError.rate_limited("throttled", retry_after_s=hint)

    assert error.retry_after_s is None
    assert error.info.retry_after_s is None


def test_a_whole_number_retry_after_hint_is_kept_as_seconds() -> None:
    assert GenerationError.rate_limited("throttled", retry_after_s=30).retry_after_s == 30.0

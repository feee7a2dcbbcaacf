"""Real Replicate failures, as recorded in the reference notes, and what each must classify as.

Each HTTP sample is a problem+json body (status, title, detail) as the API answers it; each
prediction sample is the `error` text of a failed prediction, or a status-only outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared.errors import ErrorCode, GenerationError
from shared.providers.classify import (
    HTTP_RULES,
    PREDICTION_RULES,
    PROVIDER,
    Rule,
    classify_api_error,
    classify_prediction,
    classify_prediction_error,
)

SENSITIVE = ErrorCode.SENSITIVE_CONTENT
INVALID = ErrorCode.INVALID_INPUT
RATE = ErrorCode.RATE_LIMITED
TRANSIENT = ErrorCode.TRANSIENT_PROVIDER_ERROR
FAILURE = ErrorCode.PROVIDER_FAILURE
CONFIG = ErrorCode.PROVIDER_CONFIGURATION
UNKNOWN = ErrorCode.UNKNOWN


@dataclass(frozen=True)
class Expect:
    code: ErrorCode
    retryable: bool
    user_action: bool
    provider_code: str | None
    retry_after_s: float | None = None


HTTP_SAMPLES: list[tuple[int, str | None, str | None, Expect]] = [
    (
        401,
        "Unauthenticated",
        "You did not pass a valid authentication token",
        Expect(CONFIG, False, False, "401"),
    ),
    (
        402,
        "Insufficient credit",
        "You have insufficient credit to run this model. Go to "
        "https://replicate.com/account/billing#billing to purchase credit. Once you purchase "
        "credit, please wait a few minutes before trying again.",
        Expect(CONFIG, False, False, "402"),
    ),
    (
        402,
        "Billing required",
        "You need to set up billing to run this model.",
        Expect(CONFIG, False, False, "402"),
    ),
    (404, None, "The requested resource could not be found.", Expect(CONFIG, False, False, "404")),
    (
        422,
        "Invalid version or not permitted",
        "The specified version does not exist (or perhaps you don't have permission to use it?)",
        Expect(CONFIG, False, False, "422"),
    ),
    (
        422,
        "Input validation failed",
        '- input.output_format: output_format must be one of the following: "jpg", "png"\n',
        Expect(INVALID, False, True, "422"),
    ),
    (
        429,
        None,
        "Request was throttled. Your rate limit resets in ~30s.",
        Expect(RATE, True, False, "429", 30.0),
    ),
    (
        429,
        None,
        "Request was throttled. Expected available in 1 second.",
        Expect(RATE, True, False, "429", 1.0),
    ),
    # github.com/replicate/replicate-go/issues/24
    (
        400,
        None,
        "Failed to parse request body as JSON: EOF",
        Expect(CONFIG, False, False, "400"),
    ),
    # github.com/replicate/replicate-python/issues/133: an HTML page from the front proxy
    (413, None, None, Expect(INVALID, False, True, "413")),
    # No public Replicate sample of a 409 was found: the rule rests on HTTP's meaning (RFC 9110
    # §15.5.10, the request conflicts with the resource's state: sending it again cannot help)
    (409, "Conflict", None, Expect(CONFIG, False, False, "409")),
    # a moderation failure answered on create, in MiniMax's words (see the 1026 sample below)
    (400, None, "input new_sensitive (1026)", Expect(SENSITIVE, False, True, "400")),
    (500, None, None, Expect(TRANSIENT, True, False, "500")),  # an HTML page: no JSON members
    (502, None, None, Expect(TRANSIENT, True, False, "502")),
    (
        503,
        "Service Unavailable",
        "Service is temporarily unavailable.",
        Expect(TRANSIENT, True, False, "503"),
    ),
    (504, "Gateway Timeout", None, Expect(TRANSIENT, True, False, "504")),
]

PREDICTION_ERRORS: list[tuple[str | None, Expect]] = [
    (
        "The input or output was flagged as sensitive. Please try again with different inputs. "
        "(E005)",
        Expect(SENSITIVE, False, True, "E005"),
    ),
    (
        "The input or output was flagged as sensitive. Please try again with different inputs. "
        "(E005) (uIJ6l3ruRD)",
        Expect(SENSITIVE, False, True, "E005"),
    ),
    (
        "NSFW content detected. Try running it again, or try a different prompt.",
        Expect(SENSITIVE, False, True, None),
    ),
    # MiniMax's error table, https://platform.minimax.io/docs/api-reference/errorcode: 1026
    # "input new_sensitive", 1027 "output new_sensitive"; Replicate's minimax models fail with
    # MiniMax's own words. github.com/geekjourneyx/md2wechat-skill/pull/21 asks for both.
    ("input new_sensitive (1026)", Expect(SENSITIVE, False, True, "1026")),
    ("output new_sensitive (1027)", Expect(SENSITIVE, False, True, "1027")),
    # moderation wordings of video models on Replicate (reference notes, "error texts")
    (
        "The input or output was flagged as potentially sensitive. Please try again with "
        "different inputs.",
        Expect(SENSITIVE, False, True, None),
    ),
    (
        "Prediction failed: the prompt was rejected by content moderation.",
        Expect(SENSITIVE, False, True, None),
    ),
    (
        "The input was invalid. Please try again with different inputs. (E006)",
        Expect(INVALID, False, True, "E006"),
    ),
    # public clients report E9243 as an internal error; it is the input (reference notes)
    (
        "Director: unexpected error handling prediction (E9243)",
        Expect(INVALID, False, True, "E9243"),
    ),
    (
        "The model is overloaded. Service is currently unavailable due to high demand. Please "
        "try again later. (E003)",
        Expect(TRANSIENT, True, False, "E003"),
    ),
    (
        "Service is temporarily unavailable. Please try again later. (E004)",
        Expect(TRANSIENT, True, False, "E004"),
    ),
    (
        "Director: unexpected error handling prediction (E6716)",
        Expect(TRANSIENT, True, False, "E6716"),
    ),
    ("Prediction interrupted; please retry (code: PA)", Expect(TRANSIENT, True, False, "PA")),
    ("An unknown error occurred (E1000)", Expect(TRANSIENT, True, False, "E1000")),
    (
        "Prediction stopped in a non-terminal state (E8367)",
        Expect(TRANSIENT, True, False, "E8367"),
    ),
    ("Health check failed (E8765)", Expect(TRANSIENT, True, False, "E8765")),
    ("Failed to upload the output (E9825)", Expect(TRANSIENT, True, False, "E9825")),
    (
        "Director: unexpected error handling prediction (E9828)",
        Expect(TRANSIENT, True, False, "E9828"),
    ),
    (
        "Director: unexpected error handling prediction (E1001)",
        Expect(FAILURE, False, False, "E1001"),
    ),
    (
        "Prediction failed for an unknown reason. It might have run out of memory? (exitcode -9)",
        Expect(FAILURE, False, False, None),
    ),
    (
        "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 39.39 GiB total capacity)",
        Expect(FAILURE, False, False, None),
    ),
    ("Prediction timed out.", Expect(FAILURE, False, False, None)),
    ("Prediction failed.", Expect(UNKNOWN, True, False, None)),
    (None, Expect(UNKNOWN, True, False, None)),
]

STATUS_OUTCOMES: list[tuple[str, object, Expect]] = [
    ("succeeded", [], Expect(SENSITIVE, False, True, None)),
    ("succeeded", None, Expect(SENSITIVE, False, True, None)),
    ("canceled", None, Expect(TRANSIENT, True, False, "canceled")),
    ("aborted", None, Expect(TRANSIENT, True, False, "aborted")),
]


def _check(error: object, expect: Expect) -> None:
    assert isinstance(error, GenerationError)
    assert (error.code, error.retryable, error.user_action_required, error.provider_code) == (
        expect.code,
        expect.retryable,
        expect.user_action,
        expect.provider_code,
    )
    assert error.retry_after_s == expect.retry_after_s
    assert error.provider == PROVIDER


def test_the_sample_table_covers_at_least_thirty_real_failures() -> None:
    assert len(HTTP_SAMPLES) + len(PREDICTION_ERRORS) + len(STATUS_OUTCOMES) >= 30


@pytest.mark.parametrize(("status", "title", "detail", "expect"), HTTP_SAMPLES)
def test_api_error_samples_classify_as_the_reference_says(
    status: int, title: str | None, detail: str | None, expect: Expect
) -> None:
    error = classify_api_error(status, title, detail)
    _check(error, expect)
    assert error.message == (detail or title or f"Replicate answered HTTP {status}")


@pytest.mark.parametrize(("text", "expect"), PREDICTION_ERRORS)
def test_prediction_error_samples_classify_as_the_reference_says(
    text: str | None, expect: Expect
) -> None:
    error = classify_prediction_error(text)
    _check(error, expect)
    if text is not None:
        assert error.message == text


@pytest.mark.parametrize(("status", "output", "expect"), STATUS_OUTCOMES)
def test_status_only_outcomes_classify_as_the_reference_says(
    status: str, output: object, expect: Expect
) -> None:
    _check(classify_prediction(status, None, output), expect)


def _first_rule(rules: tuple[Rule, ...], status: int | None, text: str) -> int | None:
    for index, rule in enumerate(rules):
        if rule.matches(status, text):
            return index
    return None


def test_every_http_rule_is_the_first_match_of_some_real_sample() -> None:
    extra: list[tuple[int, str | None, str | None]] = [
        (429, "Insufficient credit", "low credit"),
        (400, None, "flagged as sensitive (E005)"),
    ]
    samples = [(status, title, detail) for status, title, detail, _ in HTTP_SAMPLES]
    reached = {
        _first_rule(HTTP_RULES, status, " ".join(p for p in (title, detail) if p))
        for status, title, detail in [*samples, *extra]
    }
    assert reached >= set(range(len(HTTP_RULES)))


def test_every_prediction_rule_is_the_first_match_of_some_real_sample() -> None:
    reached = {_first_rule(PREDICTION_RULES, None, text or "") for text, _ in PREDICTION_ERRORS}
    assert reached >= set(range(len(PREDICTION_RULES)))

from shared.errors import GenerationError
from shared.media import MediaKind
from shared.results import (
    GenerationDebug,
    GenerationFailed,
    GenerationResult,
    GenerationSucceeded,
    StoredMedia,
)

DEBUG = GenerationDebug(prompt="a cat", model="m/flux", provider="replicate", prediction_id="p1")


def describe(result: GenerationResult) -> str:
    if result.ok:
        return f"stored {result.media.blob_key}"
    return f"failed {result.error.code}"


def test_ok_tells_a_success_from_a_failure() -> None:
    success = GenerationSucceeded(
        MediaKind.IMAGE, StoredMedia("sha256/ab.png", "image/png", 1234), DEBUG
    )
    failure = GenerationFailed(MediaKind.IMAGE, GenerationError.transient("E004"), DEBUG)

    assert [describe(success), describe(failure)] == [
        "stored sha256/ab.png",
        "failed TRANSIENT_PROVIDER_ERROR",
    ]


def test_a_failure_resumes_no_prediction_unless_told_to() -> None:
    failure = GenerationFailed(MediaKind.VIDEO, GenerationError.unknown("?"), DEBUG)

    assert failure.resume_prediction_id is None

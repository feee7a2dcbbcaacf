"""The model registry: which models it covers, what each accepts, and its own consistency."""

from __future__ import annotations

import pytest

from shared.media import MediaKind
from shared.model_registry import REGISTRY, InputProblem, ModelSchema, is_pinned, schema_for

DEFAULT_MODELS = (
    "black-forest-labs/flux-schnell",
    "minimax/speech-02-turbo",
    "minimax/video-01",
    "stability-ai/stable-audio-2.5",
)
LIKELY_ALTERNATIVES = (
    "black-forest-labs/flux-1.1-pro",
    "jaaari/kokoro-82m",
    "google/veo-3",
    "meta/musicgen",
)


@pytest.mark.parametrize("ref", DEFAULT_MODELS + LIKELY_ALTERNATIVES)
def test_the_default_models_and_the_likely_alternatives_have_a_row(ref: str) -> None:
    schema = schema_for(ref)
    assert schema is not None
    assert schema.ref == ref
    assert schema.source.startswith("https://replicate.com/")


@pytest.mark.parametrize("schema", REGISTRY.values(), ids=lambda s: s.ref)
def test_every_rows_defaults_are_inputs_its_model_accepts(schema: ModelSchema) -> None:
    assert schema.problems("a prompt", schema.defaults) == []


def test_a_version_reference_finds_the_row_of_its_model() -> None:
    kokoro = schema_for("jaaari/kokoro-82m:f559560eb822dc50")
    assert kokoro is not None
    assert (kokoro.kind, kokoro.voice_field) == (MediaKind.NARRATION, "voice")
    assert is_pinned("jaaari/kokoro-82m:f559560eb822dc50")
    assert not is_pinned("jaaari/kokoro-82m")
    assert schema_for("acme/unknown") is None


def test_a_minimax_video_prompt_is_capped_at_2000_characters() -> None:
    video = REGISTRY["minimax/video-01"]
    assert video.problems("x" * 2_000, {}) == []
    (problem,) = video.problems("x" * 2_001, {})
    assert problem.field == "prompt"
    assert "2000" in problem.message


@pytest.mark.parametrize(
    ("ref", "params", "field", "words"),
    [
        ("black-forest-labs/flux-1.1-pro", {"num_outputs": 2}, "params.num_outputs", "accept"),
        ("black-forest-labs/flux-schnell", {"num_outputs": 5}, "params.num_outputs", "at most 4"),
        ("black-forest-labs/flux-schnell", {"num_outputs": "2"}, "params.num_outputs", "integer"),
        (
            "black-forest-labs/flux-schnell",
            {"output_format": "gif"},
            "params.output_format",
            "one of",
        ),
        ("google/veo-3", {"prompt_optimizer": True}, "params.prompt_optimizer", "accept"),
        ("stability-ai/stable-audio-2.5", {"duration": 191}, "params.duration", "at most 190"),
        ("jaaari/kokoro-82m", {"speed": True}, "params.speed", "number"),
        ("minimax/speech-02-turbo", {"text": "other"}, "params.text", "prompt"),
    ],
)
def test_a_param_that_breaks_the_models_schema_is_named(
    ref: str, params: dict[str, object], field: str, words: str
) -> None:
    (problem,) = REGISTRY[ref].problems("a prompt", params)
    assert problem.field == field
    assert words in problem.message


def test_every_problem_of_a_request_is_reported() -> None:
    problems = REGISTRY["black-forest-labs/flux-schnell"].problems(
        "ok", {"num_outputs": 9, "voice": "x"}
    )
    assert [p.field for p in problems] == ["params.num_outputs", "params.voice"]
    assert all(isinstance(p, InputProblem) for p in problems)


def test_narration_models_name_their_own_voice_field() -> None:
    assert REGISTRY["minimax/speech-02-turbo"].voice_field == "voice_id"
    assert REGISTRY["jaaari/kokoro-82m"].voice_field == "voice"


def test_output_types_and_default_formats_are_recorded() -> None:
    assert REGISTRY["black-forest-labs/flux-schnell"].output.is_list
    assert REGISTRY["minimax/speech-02-turbo"].output.default_format == "mp3"
    assert REGISTRY["jaaari/kokoro-82m"].output.default_format == "wav"

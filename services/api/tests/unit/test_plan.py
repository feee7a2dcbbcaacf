import itertools
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from api.plan import plan_lecture
from api.problems import ProblemError
from api.schemas import CreateLectureRequest
from api.settings import DefaultModels
from shared.media import MediaKind


def counter_ids() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"id{next(numbers)}"


def request(**overrides: Any) -> CreateLectureRequest:
    body: dict[str, Any] = {
        "title": "Photosynthesis",
        "segments": [
            {
                "segment_id": "intro",
                "duration_s": 10,
                "image": {"prompt": "a leaf"},
                "narration": {"text": "Plants eat light.", "voice": "Wise_Woman"},
            },
            {
                "duration_s": 20.5,
                "video": {"prompt": "chloroplasts", "params": {"prompt_optimizer": False}},
            },
            {"duration_s": 5},
        ],
        "music": {"prompt": "calm piano"},
    }
    body.update(overrides)
    return CreateLectureRequest.model_validate(body)


def test_segments_start_where_the_previous_one_ends() -> None:
    event = plan_lecture(request(), DefaultModels(), counter_ids())
    assert [(s.segment_id, s.start_s, s.duration_s) for s in event.segments] == [
        ("intro", 0.0, 10.0),
        ("s2", 10.0, 20.5),
        ("s3", 30.5, 5.0),
    ]
    assert event.duration_s == 35.5


def test_every_requested_medium_becomes_one_asset_and_a_segment_without_media_has_none() -> None:
    event = plan_lecture(request(), DefaultModels(), counter_ids())
    assert [(a.kind, a.segment_id) for a in event.assets] == [
        (MediaKind.IMAGE, "intro"),
        (MediaKind.NARRATION, "intro"),
        (MediaKind.VIDEO, "s2"),
        (MediaKind.MUSIC, None),
    ]
    assert len({a.asset_id for a in event.assets} | {event.lecture_id}) == 5


def test_music_spans_the_lecture_unless_a_duration_is_given() -> None:
    spanning = plan_lecture(request(), DefaultModels(), counter_ids())
    assert spanning.assets[-1].duration_s == 35.5
    short = plan_lecture(
        request(music={"prompt": "drums", "duration_s": 12}), DefaultModels(), counter_ids()
    )
    assert short.assets[-1].duration_s == 12


def test_default_models_come_from_settings_and_a_given_model_wins() -> None:
    models = DefaultModels(image="acme/painter")
    event = plan_lecture(
        request(music={"prompt": "x", "model": "acme/composer"}), models, counter_ids()
    )
    by_kind = {a.kind: a.model for a in event.assets}
    assert by_kind == {
        MediaKind.IMAGE: "acme/painter",
        MediaKind.NARRATION: "minimax/speech-02-turbo",
        MediaKind.VIDEO: "minimax/video-01",
        MediaKind.MUSIC: "acme/composer",
    }


def test_narration_voice_goes_to_the_voice_id_param_and_the_text_is_the_prompt() -> None:
    event = plan_lecture(request(), DefaultModels(), counter_ids())
    narration = next(a for a in event.assets if a.kind is MediaKind.NARRATION)
    assert narration.prompt == "Plants eat light."
    assert narration.params == {"voice_id": "Wise_Woman"}


def test_a_repeated_segment_id_is_refused_naming_the_second_segment() -> None:
    body = request(segments=[{"segment_id": "a", "duration_s": 1}] * 2)
    with pytest.raises(ProblemError) as caught:
        plan_lecture(body, DefaultModels(), counter_ids())
    assert caught.value.status == 422
    assert [e.field for e in caught.value.errors or []] == ["segments.1.segment_id"]


def test_a_generated_segment_id_that_collides_with_a_given_one_is_refused() -> None:
    body = request(segments=[{"segment_id": "s2", "duration_s": 1}, {"duration_s": 1}])
    with pytest.raises(ProblemError):
        plan_lecture(body, DefaultModels(), counter_ids())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"segments": []}, "segments"),
        ({"segments": [{"duration_s": 1}] * 501}, "segments"),
        ({"segments": [{"duration_s": 0}]}, "segments.0.duration_s"),
        ({"segments": [{"duration_s": 600.5}]}, "segments.0.duration_s"),
        ({"segments": [{"duration_s": 1, "image": {"prompt": "x" * 4001}}]}, "prompt"),
        ({"music": {"prompt": "x", "duration_s": -1}}, "duration_s"),
        ({"segments": [{"duration_s": 1, "video": {"prompt": "x", "model": "no slash"}}]}, "model"),
    ],
)
def test_the_limits_of_the_contract_are_enforced(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        request(**change)
    assert any(str(err["loc"][-1]) == field.rsplit(".", 1)[-1] for err in caught.value.errors())


def test_limits_at_their_edges_are_accepted() -> None:
    body = request(
        segments=[{"duration_s": 600, "image": {"prompt": "x" * 4000}}] * 500,
        music=None,
    )
    event = plan_lecture(body, DefaultModels(), counter_ids())
    assert len(event.segments) == 500
    assert event.duration_s == 300_000


def test_a_kokoro_narrations_voice_goes_to_its_voice_param() -> None:
    kokoro = "jaaari/kokoro-82m:f559560eb822dc509045f3921a1921234918b91739db4bf3daab2169b71c7a13"
    segment = {"duration_s": 3, "narration": {"text": "Hi.", "voice": "af_sky", "model": kokoro}}
    event = plan_lecture(request(segments=[segment]), DefaultModels(), counter_ids())
    (narration,) = (a for a in event.assets if a.kind is MediaKind.NARRATION)
    assert narration.params == {"voice": "af_sky"}


def test_every_asset_that_breaks_its_models_schema_is_named_at_once() -> None:
    segments = [
        {"duration_s": 3, "video": {"prompt": "v" * 2_001}},
        {"duration_s": 3, "image": {"prompt": "a", "params": {"num_outputs": 0}}},
        {"duration_s": 3, "image": {"prompt": "a", "model": "acme/free", "params": {"x": 1}}},
    ]
    with pytest.raises(ProblemError) as caught:
        plan_lecture(request(segments=segments), DefaultModels(), counter_ids())
    assert caught.value.status == 422
    assert [e.field for e in caught.value.errors or []] == [
        "segments.0.video.prompt",
        "segments.1.image.params.num_outputs",
    ]

"""Input is taken whole or refused at the door: every lecture the API accepts ends visible in
the views exactly as it was sent, through the real event log and the real projector; every
other one gets a 4xx that names the field (422) or the limit (413), never a 5xx.

Lectures are generated across the documented limits (DESIGN §7: texts up to 4,000
characters, up to 500 segments) with unusual text: NUL and other control characters, unpaired
surrogates, four-byte characters, combining marks, right-to-left text, quotes and backslashes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from api.model_inputs import lecture_input_errors
from api.schemas import MAX_PROMPT_CHARS, MAX_SEGMENTS, CreateLectureRequest
from api.settings import ApiSettings, DefaultModels
from api.storable import refusal

from ..conftest import serve_in_thread

pytestmark = pytest.mark.integration

MAX_TITLE_CHARS = 500
UNREGISTERED = "example/unregistered-model"
UNUSUAL = "\x00\x01\x1f\t\n\r\ud800\udfff\u0301\u202e\u05d0\ufeff\U0001f600\U00010348\"\\<>'é中"

storable = st.characters(exclude_categories=["Cc", "Cs"])
units = st.one_of(
    st.text(alphabet=storable, min_size=1, max_size=6),
    st.text(alphabet=storable, min_size=1, max_size=6),
    st.text(alphabet=st.sampled_from(UNUSUAL) | st.characters(), min_size=1, max_size=6),
)
lengths = st.sampled_from(
    [1, 2, 17, 17, 300, MAX_PROMPT_CHARS - 1, MAX_PROMPT_CHARS, MAX_PROMPT_CHARS + 1]
)


@st.composite
def texts(draw: st.DrawFn, max_chars: int = MAX_PROMPT_CHARS) -> str:
    """A text of a length around the limits, repeating a short unit of unusual characters."""
    unit, length = draw(units), min(draw(lengths), max_chars + 1)
    return (unit * length)[:length]


@st.composite
def segments(draw: st.DrawFn) -> dict[str, Any]:
    segment: dict[str, Any] = {"duration_s": draw(st.sampled_from([0.5, 5, 600]))}
    if draw(st.booleans()):
        segment["title"] = draw(texts(MAX_TITLE_CHARS))
    if draw(st.booleans()):
        segment["image"] = {"prompt": draw(texts())}
    if draw(st.booleans()):
        segment["narration"] = {"text": draw(texts())}
    if draw(st.booleans()):
        segment["video"] = {"prompt": draw(texts())}
    return segment


@st.composite
def lectures(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.sampled_from([1, 2, 3, 40]))
    body: dict[str, Any] = {
        "title": draw(texts(MAX_TITLE_CHARS)),
        "segments": [draw(segments())] * count if draw(st.booleans()) else [],
    }
    body["segments"] = body["segments"] or [draw(segments()) for _ in range(count)]
    if draw(st.booleans()):
        body["music"] = {"prompt": draw(texts())}
    return body


def largest_lecture(char: str, segment_count: int = MAX_SEGMENTS) -> dict[str, Any]:
    """Every documented limit at once, in characters that take the most bytes."""
    text = char * MAX_PROMPT_CHARS
    segment = {
        "title": char * MAX_TITLE_CHARS,
        "duration_s": 600,
        "image": {"prompt": text},
        "narration": {"text": text},
        "video": {"prompt": text},
    }
    return {
        "title": text[:MAX_TITLE_CHARS],
        "segments": [segment] * segment_count,
        "music": {"prompt": text},
    }


@pytest.fixture
def http(api_settings: ApiSettings, projector: None, token: str) -> Iterator[httpx.Client]:
    api_settings.wait_for_timeout_s = 120  # the largest lecture takes the projector a while
    with (
        serve_in_thread(api_settings) as base_url,
        httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=180
        ) as client,
    ):
        yield client


@given(body=lectures())
@example(body=largest_lecture("\U0001f600"))  # four bytes each in UTF-8
@example(body=largest_lecture('"'))  # escaped as two bytes each in JSON
@example(body=largest_lecture("a", MAX_SEGMENTS + 1))
@example(body={"title": "NUL", "segments": [{"duration_s": 1, "image": {"prompt": "a\x00b"}}]})
@settings(
    max_examples=30,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_a_lecture_is_either_visible_as_sent_or_refused_with_a_4xx_naming_the_field(
    http: httpx.Client, body: dict[str, Any]
) -> None:
    answer = http.post(
        "/v1/lectures", content=_json(body), headers={"Content-Type": "application/json"}
    )
    problem = _documented_problem(body)
    if problem is None:
        assert answer.status_code == 202, answer.text[:2000]
        accepted = answer.json()
        lecture = http.get(
            f"/v1/lectures/{accepted['lecture_id']}", params={"wait_for": accepted["event_id"]}
        )
        assert lecture.status_code == 200, lecture.text[:2000]
        _assert_as_sent(body, lecture.json())
    else:
        assert answer.status_code == 422, answer.text[:2000]
        assert answer.headers["content-type"] == "application/problem+json"
        named = [error["field"] for error in answer.json()["errors"]]
        assert problem in named, (problem, named)


def _documented_problem(body: dict[str, Any]) -> str | None:
    """The first field the documented limits refuse (by our own reading), or None."""
    if len(body["segments"]) > MAX_SEGMENTS:
        return "segments"
    fields: list[tuple[str, str, int]] = [("title", body["title"], MAX_TITLE_CHARS)]
    for index, segment in enumerate(body["segments"]):
        if "title" in segment:
            fields.append((f"segments.{index}.title", segment["title"], MAX_TITLE_CHARS))
        for kind, key in (("image", "prompt"), ("narration", "text"), ("video", "prompt")):
            if kind in segment:
                fields.append(
                    (f"segments.{index}.{kind}.{key}", segment[kind][key], MAX_PROMPT_CHARS)
                )
    if "music" in body:
        fields.append(("music.prompt", body["music"]["prompt"], MAX_PROMPT_CHARS))
    for name, text, limit in fields:
        if len(text) > limit or refusal(text):
            return name
    # Within the API's own limits, a known model may still take less (the model registry).
    registry = lecture_input_errors(CreateLectureRequest.model_validate(body), DefaultModels())
    return registry[0].field if registry else None


def _assert_as_sent(body: dict[str, Any], lecture: dict[str, Any]) -> None:
    assert lecture["title"] == body["title"]
    sent_titles = [segment.get("title") for segment in body["segments"]]
    assert [segment["title"] for segment in lecture["segments"]] == sent_titles
    sent_prompts = [
        segment[kind][key]
        for segment in body["segments"]
        for kind, key in (("image", "prompt"), ("narration", "text"), ("video", "prompt"))
        if kind in segment
    ]
    if "music" in body:
        sent_prompts.append(body["music"]["prompt"])
    assert [asset["prompt"] for asset in lecture["assets"]] == sent_prompts


def _json(body: dict[str, Any]) -> bytes:
    # json.dumps escapes unpaired surrogates as \\udXXX, as any client may send them.
    import json

    return json.dumps(body).encode()

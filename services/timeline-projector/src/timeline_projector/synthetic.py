"""A realistic event log for benchmarks and tests: lectures and the life of their assets.

Each lecture gets segments with an image and a narration (some with a video) and music; each
asset then lives one of the stories the workers tell: generated at once, retried then
generated, rejected as sensitive, failed after its retries, or regenerated to version 2 with
the late result of version 1 arriving afterwards. Events of one lecture keep their order;
lectures interleave. The same seed gives the same log.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.envelope import Envelope, envelop
from shared.errors import ErrorInfo, GenerationError
from shared.events import (
    AssetAttemptStarted,
    AssetFailed,
    AssetGenerated,
    AssetNeedsPromptUpdate,
    AssetPlan,
    AssetRegenerationRequested,
    AssetRetrying,
    LectureCreated,
    MediaRef,
    Payload,
    SegmentPlan,
)
from shared.ids import derived_id
from shared.media import MediaKind

SOURCE = "lecturegen/synthetic"
START = datetime(2026, 1, 1, tzinfo=UTC)

_TRANSIENT = GenerationError.transient(
    "Prediction interrupted; please retry (code: PA)", provider="replicate", provider_code="PA"
).info
_SENSITIVE = GenerationError.sensitive_content(
    "The input or output was flagged as sensitive. Please try again with different inputs. (E005)",
    provider="replicate",
    provider_code="E005",
).info
_MODELS = {
    MediaKind.IMAGE: "black-forest-labs/flux-schnell",
    MediaKind.NARRATION: "jaaari/kokoro-82m",
    MediaKind.VIDEO: "wan-video/wan-2.2-t2v-fast",
    MediaKind.MUSIC: "meta/musicgen",
}
_CONTENT = {
    MediaKind.IMAGE: "image/png",
    MediaKind.NARRATION: "audio/wav",
    MediaKind.VIDEO: "video/mp4",
    MediaKind.MUSIC: "audio/wav",
}


def lecture_events(lecture_no: int, rng: random.Random) -> list[Payload]:
    """Every event of one lecture, in order."""
    lecture_id = derived_id("synthetic-lecture", str(lecture_no))
    segments, assets = [], []
    start = 0.0
    for s in range(rng.randint(3, 8)):
        segment_id = f"{lecture_id[:8]}-s{s}"
        duration = float(rng.randint(4, 30))
        segments.append(SegmentPlan(segment_id=segment_id, start_s=start, duration_s=duration))
        start += duration
        kinds = [MediaKind.IMAGE, MediaKind.NARRATION]
        if rng.random() < 0.2:
            kinds.append(MediaKind.VIDEO)
        for kind in kinds:
            assets.append(_plan(lecture_id, segment_id, kind, rng))
    assets.append(_plan(lecture_id, None, MediaKind.MUSIC, rng))
    created = LectureCreated(
        lecture_id=lecture_id,
        title=f"Lecture {lecture_no}",
        duration_s=start,
        segments=tuple(segments),
        assets=tuple(assets),
    )
    stories = [_story(lecture_id, plan, rng) for plan in assets]
    return [created, *_interleave(stories, rng)]


def synthetic_log(lectures: int, seed: int = 7) -> Iterator[Envelope]:
    """The events of `lectures` lectures, lectures interleaved, each lecture's order kept."""
    rng = random.Random(seed)
    per_lecture = [lecture_events(n, rng) for n in range(lectures)]
    clock = START
    for payload in _interleave(per_lecture, rng):
        clock += timedelta(milliseconds=rng.randint(1, 50))
        yield envelop(payload, SOURCE, now=clock)


def _plan(
    lecture_id: str, segment_id: str | None, kind: MediaKind, rng: random.Random
) -> AssetPlan:
    asset_id = derived_id(lecture_id, segment_id or "music", kind.value)
    text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 40)))
    return AssetPlan(
        asset_id=asset_id,
        kind=kind,
        segment_id=segment_id,
        prompt=text,
        model=_MODELS[kind],
        params={"seed": rng.randint(0, 10_000)} if kind is MediaKind.IMAGE else {},
    )


def _story(lecture_id: str, plan: AssetPlan, rng: random.Random) -> list[Payload]:
    roll = rng.random()
    events: list[Payload] = []
    if roll < 0.6:
        events += _attempts(lecture_id, plan, 1, retries=0, outcome="generated")
    elif roll < 0.8:
        events += _attempts(lecture_id, plan, 1, retries=rng.randint(1, 2), outcome="generated")
    elif roll < 0.88:
        events += _attempts(lecture_id, plan, 1, retries=0, outcome="sensitive")
    elif roll < 0.94:
        events += _attempts(lecture_id, plan, 1, retries=3, outcome="failed")
    else:  # regenerated while version 1 was still running; its result arrives late
        first = _attempts(lecture_id, plan, 1, retries=0, outcome="generated")
        events.append(first[0])
        events.append(
            AssetRegenerationRequested(
                **_common(lecture_id, plan, 2), prompt=plan.prompt + " (calmer)", model=plan.model
            )
        )
        events += _attempts(lecture_id, plan, 2, retries=0, outcome="generated")
        events += first[1:]
    return events


def _attempts(
    lecture_id: str, plan: AssetPlan, version: int, retries: int, outcome: str
) -> list[Payload]:
    common = _common(lecture_id, plan, version)
    events: list[Payload] = []
    for attempt in range(1, retries + 2):
        at = START + timedelta(seconds=attempt)
        events.append(AssetAttemptStarted(**common, attempt=attempt, started_at=at))
        if attempt <= retries:
            events.append(_retrying(common, attempt, at))
    attempts = retries + 1
    if outcome == "generated":
        events.append(
            AssetGenerated(
                **common,
                media=MediaRef(
                    blob_key=derived_id(plan.asset_id, str(version)) + ".bin",
                    content_type=_CONTENT[plan.kind],
                    size_bytes=1000 + attempts,
                    duration_s=None if plan.kind is MediaKind.IMAGE else 10.0,
                ),
                prompt=plan.prompt,
                model=plan.model,
                provider="replicate",
                prediction_id=derived_id("prediction", plan.asset_id, str(version)),
                attempts=attempts,
                retried_count=retries,
            )
        )
    else:
        error: ErrorInfo = _SENSITIVE if outcome == "sensitive" else _TRANSIENT
        final = AssetNeedsPromptUpdate if outcome == "sensitive" else AssetFailed
        events.append(
            final(
                **common,
                error=error,
                prompt=plan.prompt,
                model=plan.model,
                retried_count=retries,
                attempts=attempts,
            )
        )
    return events


def _retrying(common: dict[str, Any], attempt: int, at: datetime) -> AssetRetrying:
    delay = 5.0 * 2 ** (attempt - 1)
    return AssetRetrying(
        **common,
        attempt=attempt,
        retried_count=attempt,
        delay_s=delay,
        next_attempt_at=at + timedelta(seconds=delay),
        error=_TRANSIENT,
    )


def _common(lecture_id: str, plan: AssetPlan, version: int) -> dict[str, Any]:
    return {
        "lecture_id": lecture_id,
        "asset_id": plan.asset_id,
        "kind": plan.kind,
        "segment_id": plan.segment_id,
        "prompt_version": version,
    }


def _interleave(sequences: list[list[Payload]], rng: random.Random) -> Iterator[Payload]:
    """Merge `sequences` in a random order that keeps the order within each one."""
    cursors = [0] * len(sequences)
    live = [i for i, seq in enumerate(sequences) if seq]
    while live:
        pick = rng.randrange(len(live))
        i = live[pick]
        yield sequences[i][cursors[i]]
        cursors[i] += 1
        if cursors[i] == len(sequences[i]):
            live[pick] = live[-1]
            live.pop()


_WORDS = (
    (
        "a lecture hall at dawn, chalk diagrams of the water cycle, a friendly owl explaining "
        "photosynthesis, soft watercolour, warm light, the history of the printing press, "
        "students taking notes, a map of ancient trade routes, cinematic, detailed"
    )
    .replace(",", "")
    .split()
)

"""The demo lecture: eight segments about lighthouses, some of whose prompts ask the local
Replicate-compatible server to fail on purpose (DESIGN §8), so one run shows every outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.media import MediaKind
from shared.status import AssetStatus

TITLE = "Lighthouses: how light crossed the sea"


@dataclass(frozen=True, slots=True)
class Scenario:
    """A fault directive and what it should lead to."""

    directive: str
    expected: AssetStatus
    story: str


RECOVERS = Scenario("[[sim:transient x2]]", AssetStatus.GENERATED, "2 transient errors, recovers")
RATE_LIMITED = Scenario("[[sim:rate-limit x1 after=2]]", AssetStatus.GENERATED, "429, recovers")
SENSITIVE = Scenario("[[sim:sensitive]]", AssetStatus.NEEDS_PROMPT_UPDATE, "flagged sensitive")
EXHAUSTS = Scenario("[[sim:transient x9]]", AssetStatus.FAILED, "retries exhausted")


@dataclass(frozen=True, slots=True)
class _Segment:
    title: str
    image: str
    narration: str
    video: str | None = None


_SEGMENTS = (
    _Segment(
        "Fire on the headland",
        "a bonfire burning on a rocky headland at dusk, fishing boats returning, oil painting",
        "Long before lenses and lamps, sailors were guided home by fires lit on high ground.",
    ),
    _Segment(
        "The Pharos of Alexandria",
        "the Pharos lighthouse of Alexandria towering over the harbour, ancient Egypt, fresco",
        "The Pharos of Alexandria stood for over a thousand years as the model of every tower.",
    ),
    _Segment(
        "Candles, coal and oil",
        "a lighthouse keeper trimming wicks of oil lamps in a lantern room, 18th century etching",
        "For centuries the light itself was weak: candles, coal fires and smoky oil lamps.",
        video="slow pan across a lantern room as a keeper lights a row of oil lamps",
    ),
    _Segment(
        "Fresnel's lens",
        "a giant glass Fresnel lens with concentric prisms catching sunlight, museum photo",
        "In 1822 Augustin Fresnel stacked rings of prisms into a lens that threw light 20 miles.",
    ),
    _Segment(
        "Keepers and their towers",
        "a keeper climbing a spiral staircase inside a stone tower, lantern in hand, watercolour",
        "Keepers wound the clockwork, polished the glass and kept the light burning all night.",
    ),
    _Segment(
        "Signatures of light",
        "a night coastline where three lighthouses flash in different rhythms, long exposure",
        "Each light flashes its own rhythm, so a navigator can tell one headland from the next.",
        video="time-lapse of a lighthouse beam sweeping over a stormy sea at night",
    ),
    _Segment(
        "Automation",
        "an automated modern lighthouse with solar panels on a sunny cliff, clean illustration",
        "Today most lights are automatic, watched from afar, powered by the sun.",
    ),
    _Segment(
        "Why they still matter",
        "a container ship passing a white lighthouse at golden hour, cinematic photograph",
        "Even with satellites, a light on the shore is still the simplest check a sailor has.",
    ),
)

SEGMENT_SECONDS = 8.0
MUSIC_PROMPT = "calm ambient maritime theme with soft strings and distant waves"

# Which asset carries which fault, by (kind, segment position); every other asset is clean.
FAULTS: dict[tuple[MediaKind, int], Scenario] = {
    (MediaKind.IMAGE, 0): RECOVERS,
    (MediaKind.NARRATION, 1): RECOVERS,
    (MediaKind.IMAGE, 2): RATE_LIMITED,
    (MediaKind.IMAGE, 3): SENSITIVE,
    (MediaKind.VIDEO, 5): EXHAUSTS,
}
CLEAN_STORY = ""


@dataclass(frozen=True, slots=True)
class PlannedAsset:
    """One asset the demo asks for, and the status it should end in."""

    kind: MediaKind
    segment_id: str | None
    prompt: str
    expected: AssetStatus
    story: str

    @property
    def key(self) -> tuple[MediaKind, str | None]:
        return (self.kind, self.segment_id)


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """The request body of the demo lecture and the expectation for each of its assets."""

    body: dict[str, Any]
    assets: tuple[PlannedAsset, ...]

    def planned(self, kind: MediaKind, segment_id: str | None) -> PlannedAsset | None:
        return next((a for a in self.assets if a.key == (kind, segment_id)), None)


def segment_id(position: int) -> str:
    return f"s{position + 1}"


def build_demo_plan(run_tag: str, *, faults: bool = True) -> DemoPlan:
    """The demo lecture. With `faults`, five prompts carry fault directives, each followed by
    `run_tag`: the local server counts failures per exact input, so a fresh tag makes every
    run fail the same way again. Without `faults` every prompt is clean."""
    segments: list[dict[str, Any]] = []
    assets: list[PlannedAsset] = []

    def plan(kind: MediaKind, position: int | None, text: str) -> str:
        scenario = FAULTS.get((kind, position)) if faults and position is not None else None
        sid = None if position is None else segment_id(position)
        if scenario is None:
            assets.append(PlannedAsset(kind, sid, text, AssetStatus.GENERATED, CLEAN_STORY))
            return text
        prompt = f"{text} {scenario.directive} (demo {run_tag})"
        assets.append(PlannedAsset(kind, sid, prompt, scenario.expected, scenario.story))
        return prompt

    for position, seg in enumerate(_SEGMENTS):
        segment: dict[str, Any] = {
            "segment_id": segment_id(position),
            "title": seg.title,
            "duration_s": SEGMENT_SECONDS,
            "image": {"prompt": plan(MediaKind.IMAGE, position, seg.image)},
            "narration": {"text": plan(MediaKind.NARRATION, position, seg.narration)},
        }
        if seg.video is not None:
            segment["video"] = {"prompt": plan(MediaKind.VIDEO, position, seg.video)}
        segments.append(segment)
    body = {
        "title": f"{TITLE} (demo {run_tag})",
        "segments": segments,
        "music": {"prompt": plan(MediaKind.MUSIC, None, MUSIC_PROMPT)},
    }
    return DemoPlan(body=body, assets=tuple(assets))

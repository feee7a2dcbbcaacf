"""The models the server knows: one row of data each, so adding a model is adding a row."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field


class Medium(enum.Enum):
    """What a model renders."""

    IMAGE = "image"
    VIDEO = "video"
    NARRATION = "narration"
    MUSIC = "music"


@dataclass(frozen=True)
class Bounds:
    """An inclusive numeric range an input field must fall in."""

    low: float
    high: float


@dataclass(frozen=True)
class ModelSpec:
    """A model: its name, medium, required text field and the input values it accepts."""

    owner: str
    name: str
    medium: Medium
    text_field: str
    description: str
    official: bool = True
    """Official models run through `/v1/models/{owner}/{name}/predictions` without a version."""
    version_id: str = ""
    """Left empty for a stable id derived from the name."""
    output_is_list: bool = False
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    bounds: Mapping[str, Bounds] = field(default_factory=dict)
    max_text_chars: int = 10_000
    audio_format: str = "wav"
    """Audio models: the format of the output when the input asks for none (`wav` or `mp3`)."""
    format_field: str | None = None
    """Audio models: the input field that picks the output format, if the model has one."""
    fixed_duration_s: float | None = None
    """Video models that pick their own length (minimax/video-01: about 6 s, no input)."""

    @property
    def ref(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def version(self) -> str:
        if self.version_id:
            return self.version_id
        return hashlib.sha256(f"replicate-sim:{self.ref}".encode()).hexdigest()


ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
IMAGE_FORMATS = ("webp", "jpg", "png")
AUDIO_FORMATS = ("mp3", "wav")

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "black-forest-labs",
        "flux-schnell",
        Medium.IMAGE,
        "prompt",
        "The fastest image generation model, for local development.",
        output_is_list=True,
        choices={"aspect_ratio": ASPECT_RATIOS, "output_format": IMAGE_FORMATS},
        bounds={"num_outputs": Bounds(1, 4)},
    ),
    ModelSpec(
        "black-forest-labs",
        "flux-1.1-pro",
        Medium.IMAGE,
        "prompt",
        "Faster, better FLUX Pro.",
        choices={"aspect_ratio": ASPECT_RATIOS, "output_format": IMAGE_FORMATS},
        bounds={"safety_tolerance": Bounds(1, 6)},
    ),
    ModelSpec(
        "minimax",
        "video-01",
        Medium.VIDEO,
        "prompt",
        "Generate short videos from a prompt.",
        max_text_chars=2_000,
        fixed_duration_s=6.0,
    ),
    ModelSpec(
        "google",
        "veo-3",
        Medium.VIDEO,
        "prompt",
        "Text to video with audio.",
        bounds={"duration": Bounds(1, 60)},
    ),
    ModelSpec(
        "minimax",
        "speech-02-turbo",
        Medium.NARRATION,
        "text",
        "Text to speech, low latency.",
        choices={"audio_format": AUDIO_FORMATS},
        bounds={"speed": Bounds(0.5, 2), "duration": Bounds(1, 600)},
        max_text_chars=5_000,
        audio_format="mp3",
        format_field="audio_format",
    ),
    ModelSpec(
        "jaaari",
        "kokoro-82m",
        Medium.NARRATION,
        "text",
        "Kokoro text to speech, 82M parameters.",
        official=False,
        version_id="f559560eb822dc509045f3921a1921234918b91739db4bf3daab2169b71c7a13",
        bounds={"speed": Bounds(0.1, 5), "duration": Bounds(1, 600)},
    ),
    ModelSpec(
        "meta",
        "musicgen",
        Medium.MUSIC,
        "prompt",
        "Generate music from a prompt or melody.",
        official=False,
        version_id="671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb",
        choices={"output_format": AUDIO_FORMATS},
        bounds={"duration": Bounds(1, 600)},
        format_field="output_format",
    ),
    ModelSpec(
        "stability-ai",
        "stable-audio-2.5",
        Medium.MUSIC,
        "prompt",
        "Generate music and sound from text.",
        bounds={"duration": Bounds(1, 190)},
    ),
)


@dataclass(frozen=True)
class ModelTable:
    """Look-ups over a set of models by name, by version id and by deployment name."""

    models: tuple[ModelSpec, ...] = MODELS

    def by_ref(self, owner: str, name: str) -> ModelSpec | None:
        return next((m for m in self.models if (m.owner, m.name) == (owner, name)), None)

    def by_version(self, version_id: str) -> ModelSpec | None:
        return next((m for m in self.models if m.version == version_id), None)

    def by_deployment(self, owner: str, name: str) -> ModelSpec | None:
        """A deployment serves the model of the same name, whoever owns the deployment."""
        exact = self.by_ref(owner, name)
        return exact or next((m for m in self.models if m.name == name), None)

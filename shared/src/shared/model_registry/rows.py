"""The registry's rows: the models lecturegen defaults to and those a user is likely to pick.

Inputs are those of each model's API schema on replicate.com (`/<owner>/<name>/api/schema`)
as the reference notes record them; where the notes leave a bound open it is left open here
(the model itself answers 422 for it). Defaults are what lecturegen sends, not the model's.
"""

from __future__ import annotations

from shared.media import MediaKind
from shared.model_registry.schema import (
    ModelSchema,
    OutputSpec,
    boolean,
    integer,
    number,
    string,
)

ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
IMAGE_FORMATS = ("webp", "jpg", "png")
LECTURE_IMAGE = {"aspect_ratio": "16:9", "output_format": "png"}


def _schema_page(ref: str) -> str:
    return f"https://replicate.com/{ref}/api/schema"


FLUX_SCHNELL = ModelSchema(
    ref="black-forest-labs/flux-schnell",
    kind=MediaKind.IMAGE,
    text_field="prompt",
    output=OutputSpec(is_list=True, default_format="webp"),
    source=_schema_page("black-forest-labs/flux-schnell"),
    inputs={
        "aspect_ratio": string(*ASPECT_RATIOS),
        "num_outputs": integer(1, 4),
        "num_inference_steps": integer(1, 4),
        "seed": integer(),
        "output_format": string(*IMAGE_FORMATS),
        "output_quality": integer(0, 100),
        "disable_safety_checker": boolean(),
        "go_fast": boolean(),
        "megapixels": string("1", "0.25"),
    },
    defaults={**LECTURE_IMAGE, "num_outputs": 1},
)

FLUX_11_PRO = ModelSchema(
    ref="black-forest-labs/flux-1.1-pro",
    kind=MediaKind.IMAGE,
    text_field="prompt",
    output=OutputSpec(is_list=False, default_format="webp"),
    source=_schema_page("black-forest-labs/flux-1.1-pro"),
    inputs={
        "aspect_ratio": string("custom", *ASPECT_RATIOS),
        "width": integer(256, 1440),
        "height": integer(256, 1440),
        "seed": integer(),
        "output_format": string(*IMAGE_FORMATS),
        "output_quality": integer(0, 100),
        "safety_tolerance": integer(1, 6),
        "prompt_upsampling": boolean(),
        "image_prompt": string(),
    },
    defaults=LECTURE_IMAGE,
)

MINIMAX_VIDEO_01 = ModelSchema(
    ref="minimax/video-01",
    kind=MediaKind.VIDEO,
    text_field="prompt",
    output=OutputSpec(is_list=False, default_format="mp4"),
    source=_schema_page("minimax/video-01"),
    max_text_chars=2_000,
    inputs={
        "prompt_optimizer": boolean(),
        "first_frame_image": string(),
        "subject_reference": string(),
    },
    defaults={"prompt_optimizer": True},
)
"""Picks its own clip length (about 6 s): no duration input."""

VEO_3 = ModelSchema(
    ref="google/veo-3",
    kind=MediaKind.VIDEO,
    text_field="prompt",
    output=OutputSpec(is_list=False, default_format="mp4"),
    source=_schema_page("google/veo-3"),
    inputs={
        "negative_prompt": string(),
        "seed": integer(),
        "resolution": string("720p", "1080p"),
        "image": string(),
    },
)

_MINIMAX_SPEECH_INPUTS = {
    "voice_id": string(max_chars=100),
    "speed": number(0.5, 2),
    "volume": number(0, 10),
    "pitch": integer(-12, 12),
    "emotion": string(
        "auto", "neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"
    ),
    "english_normalization": boolean(),
    "sample_rate": integer(None, None, 8000, 16000, 22050, 24000, 32000, 44100),
    "bitrate": integer(None, None, 32000, 64000, 128000, 256000),
    "channel": string("mono", "stereo"),
    "language_boost": string(),
    "audio_format": string("mp3", "wav", "flac", "pcm"),
}


def _minimax_speech(name: str) -> ModelSchema:
    return ModelSchema(
        ref=f"minimax/{name}",
        kind=MediaKind.NARRATION,
        text_field="text",
        output=OutputSpec(is_list=False, default_format="mp3"),
        source=_schema_page(f"minimax/{name}"),
        max_text_chars=5_000,
        inputs=_MINIMAX_SPEECH_INPUTS,
        defaults={"voice_id": "Wise_Woman"},
        voice_field="voice_id",
    )


KOKORO_82M = ModelSchema(
    ref="jaaari/kokoro-82m",
    kind=MediaKind.NARRATION,
    text_field="text",
    output=OutputSpec(is_list=False, default_format="wav"),
    source=_schema_page("jaaari/kokoro-82m"),
    inputs={"voice": string(max_chars=100), "speed": number(0.1, 5)},
    defaults={"voice": "af_bella"},
    voice_field="voice",
)
"""A community model: run it as `jaaari/kokoro-82m:<version id>`."""

MUSICGEN = ModelSchema(
    ref="meta/musicgen",
    kind=MediaKind.MUSIC,
    text_field="prompt",
    output=OutputSpec(is_list=False, default_format="wav"),
    source=_schema_page("meta/musicgen"),
    inputs={
        "duration": integer(1),
        "model_version": string("stereo-melody-large", "stereo-large", "melody-large", "large"),
        "output_format": string("wav", "mp3"),
        "normalization_strategy": string("loudness", "clip", "peak", "rms"),
        "top_k": integer(0),
        "top_p": number(0),
        "temperature": number(0),
        "classifier_free_guidance": integer(0),
        "seed": integer(),
        "continuation": boolean(),
        "input_audio": string(),
        "multi_band_diffusion": boolean(),
    },
    duration_field="duration",
)
"""A community model: run it as `meta/musicgen:<version id>`. No documented upper bound on
`duration`: the model answers for lengths it cannot make."""

STABLE_AUDIO_25 = ModelSchema(
    ref="stability-ai/stable-audio-2.5",
    kind=MediaKind.MUSIC,
    text_field="prompt",
    output=OutputSpec(is_list=False, default_format="wav"),
    source=_schema_page("stability-ai/stable-audio-2.5"),
    inputs={
        "duration": integer(1, 190),
        "steps": integer(1),
        "cfg_scale": number(0),
        "seed": integer(),
    },
    duration_field="duration",
    duration_range=(1, 190),
    pinned_duration_range=(1, 180),
)
"""The latest version takes 1-190 s; an earlier one took 1-180 s, so a reference pinned to a
version id is held to 180 s."""

ROWS: tuple[ModelSchema, ...] = (
    FLUX_SCHNELL,
    FLUX_11_PRO,
    MINIMAX_VIDEO_01,
    VEO_3,
    _minimax_speech("speech-02-turbo"),
    _minimax_speech("speech-02-hd"),
    KOKORO_82M,
    MUSICGEN,
    STABLE_AUDIO_25,
)

"""Turning a model and its input into media files, with a small cache by input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from replicate_sim.directives import strip_directives
from replicate_sim.images import ImageRequest, render_image
from replicate_sim.inputs import input_key, seed_of
from replicate_sim.lru import LruCache
from replicate_sim.models import Medium, ModelSpec
from replicate_sim.mp3 import encode_mp3
from replicate_sim.sounds import SAMPLE_RATE, music_wav, narration_duration, narration_wav, pcm_of
from replicate_sim.video import VideoRequest, render_mp4

EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
DEFAULT_MUSIC_S = 8.0
DEFAULT_VIDEO_S = 2.0
CACHE_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True)
class Media:
    """One rendered file."""

    data: bytes
    content_type: str
    extension: str


class MediaRenderer:
    """Renders a model's output files for an input; the same input always gives the same bytes."""

    def __init__(self, cache_bytes: int = CACHE_BYTES) -> None:
        self._cache: LruCache[str, tuple[Media, ...]] = LruCache(cache_bytes, _size)

    def render(self, spec: ModelSpec, payload: Mapping[str, Any]) -> tuple[Media, ...]:
        """The output files (one, or `num_outputs` images). Safe to call from worker threads."""
        key = f"{spec.ref}:{input_key(payload)}"
        media = self._cache.get(key)
        if media is None:
            media = _render(spec, payload)
            self._cache.put(key, media)
        return media


def _render(spec: ModelSpec, payload: Mapping[str, Any]) -> tuple[Media, ...]:
    text = strip_directives(str(payload.get(spec.text_field, "")))
    seed = seed_of(payload)
    if spec.medium is Medium.IMAGE:
        return tuple(_image(text, seed + index, payload) for index in range(_count(payload)))
    if spec.medium is Medium.VIDEO:
        duration = spec.fixed_duration_s or _number(payload, "duration", DEFAULT_VIDEO_S)
        return (Media(render_mp4(VideoRequest(text, seed, duration)), "video/mp4", "mp4"),)
    if spec.medium is Medium.NARRATION:
        duration = narration_duration(text, _optional_number(payload, "duration"))
        return (_audio(spec, payload, narration_wav(text, duration)),)
    duration = _number(payload, "duration", DEFAULT_MUSIC_S)
    return (_audio(spec, payload, music_wav(seed, duration)),)


def _audio(spec: ModelSpec, payload: Mapping[str, Any], wav: bytes) -> Media:
    """The WAV as is, or as MP3 when the model's default or the input's format asks for it."""
    asked = payload.get(spec.format_field) if spec.format_field else None
    if (asked or spec.audio_format) == "mp3":
        return Media(encode_mp3(pcm_of(wav), SAMPLE_RATE), "audio/mpeg", "mp3")
    return Media(wav, "audio/wav", "wav")


def _size(media: tuple[Media, ...]) -> int:
    return sum(len(item.data) for item in media)


def _image(text: str, seed: int, payload: Mapping[str, Any]) -> Media:
    request = ImageRequest(
        text,
        seed,
        aspect_ratio=str(payload.get("aspect_ratio") or "16:9"),
        output_format=str(payload.get("output_format") or "png"),
    )
    data, content_type = render_image(request)
    return Media(data, content_type, EXTENSIONS[content_type])


def _count(payload: Mapping[str, Any]) -> int:
    return int(_number(payload, "num_outputs", 1))


def _number(payload: Mapping[str, Any], key: str, default: float) -> float:
    value = _optional_number(payload, key)
    return default if value is None else value


def _optional_number(payload: Mapping[str, Any], key: str) -> float | None:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)

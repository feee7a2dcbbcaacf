"""The renderers on their own: sizes, formats, durations, and the same bytes for the same input."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Callable

import av
import pytest
from PIL import Image

from replicate_sim.images import ImageRequest, image_size, render_image
from replicate_sim.media import MediaRenderer
from replicate_sim.models import ModelTable
from replicate_sim.sounds import music_wav, narration_duration, narration_wav
from replicate_sim.video import VideoRequest, render_mp4

MODELS = ModelTable()


@pytest.mark.parametrize(
    ("ratio", "size"),
    [("16:9", (1024, 576)), ("1:1", (1024, 1024)), ("9:16", (576, 1024)), ("4:3", (1024, 768))],
)
def test_the_long_side_is_1024_and_the_aspect_ratio_sets_the_other(
    ratio: str, size: tuple[int, int]
) -> None:
    assert image_size(ratio) == size


def test_a_nonsense_aspect_ratio_falls_back_to_16_by_9() -> None:
    assert image_size("wide") == image_size("0:0") == (1024, 576)


@pytest.mark.parametrize(("fmt", "pil_format"), [("png", "PNG"), ("jpg", "JPEG"), ("webp", "WEBP")])
def test_images_are_encoded_in_the_asked_format(fmt: str, pil_format: str) -> None:
    data, content_type = render_image(ImageRequest("a cat", seed=1, output_format=fmt))
    assert Image.open(io.BytesIO(data)).format == pil_format
    assert content_type.startswith("image/")


def test_a_very_long_prompt_still_renders() -> None:
    data, _ = render_image(ImageRequest("word " * 2000, seed=1))
    assert Image.open(io.BytesIO(data)).size == (1024, 576)


def test_narration_follows_the_text_length_unless_a_duration_is_given() -> None:
    assert narration_duration("x" * 45) == 3.0
    assert narration_duration("") == 1.0
    assert narration_duration("x" * 45, 7.25) == 7.25


@pytest.mark.parametrize("seconds", [1.0, 2.5, 190.0])
def test_music_has_exactly_the_asked_number_of_frames(seconds: float) -> None:
    with wave.open(io.BytesIO(music_wav(seed=3, duration_s=seconds))) as reader:
        assert reader.getnframes() == round(seconds * 22050)


def test_ten_minutes_of_audio_render_in_under_a_second() -> None:
    renders: tuple[Callable[[], bytes], ...] = (
        lambda: narration_wav("a long narration " * 200, 600.0),
        lambda: music_wav(1, 600.0),
    )
    for render in renders:
        started = time.perf_counter()
        render()
        assert time.perf_counter() - started < 1.0


def test_video_decodes_to_the_asked_number_of_frames() -> None:
    data = render_mp4(VideoRequest("waves", seed=2, duration_s=1.5))
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 320, 180)
        assert sum(1 for _ in container.decode(video=0)) == 18


@pytest.mark.parametrize(
    ("ref", "payload"),
    [
        ("black-forest-labs/flux-schnell", {"prompt": "same"}),
        ("google/veo-3", {"prompt": "same"}),
        ("minimax/speech-02-turbo", {"text": "same"}),
        ("meta/musicgen", {"prompt": "same"}),
    ],
)
def test_the_same_input_gives_the_same_bytes_even_without_the_cache(
    ref: str, payload: dict[str, object]
) -> None:
    owner, name = ref.split("/")
    spec = MODELS.by_ref(owner, name)
    assert spec is not None
    assert MediaRenderer().render(spec, payload) == MediaRenderer().render(spec, payload)


def test_flux_schnell_renders_num_outputs_different_images() -> None:
    spec = MODELS.by_ref("black-forest-labs", "flux-schnell")
    assert spec is not None
    media = MediaRenderer().render(spec, {"prompt": "many", "num_outputs": 3})
    assert len({item.data for item in media}) == 3


def test_directives_are_not_drawn_or_spoken() -> None:
    spec = MODELS.by_ref("minimax", "speech-02-turbo")
    assert spec is not None
    plain = MediaRenderer().render(spec, {"text": "hello there"})
    marked = MediaRenderer().render(spec, {"text": "hello [[sim:latency=0.1]] there"})
    assert plain == marked

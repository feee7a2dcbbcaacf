"""Every medium, run through the real `replicate` client: the outputs are real files."""

from __future__ import annotations

import base64
import io
import struct
import wave

import av
import httpx
import pytest
import replicate
from PIL import Image

from replicate_sim.models import ModelTable

KOKORO = ModelTable().by_ref("jaaari", "kokoro-82m")
MUSICGEN = ModelTable().by_ref("meta", "musicgen")


async def read(output: object, http: httpx.AsyncClient) -> bytes:
    """The bytes of a `FileOutput`, a `data:` URI, or an `http:` URL on the server (outputs over
    256 KB, which the client hands back as plain strings)."""
    if isinstance(output, replicate.helpers.FileOutput):
        return await output.aread()
    assert isinstance(output, str)
    if output.startswith("data:"):
        return base64.b64decode(output.split(",", 1)[1])
    response = await http.get(output)
    response.raise_for_status()
    return response.content


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (
            1,
            2,
            22050,
        )
        frames: int = reader.getnframes()
        rate: int = reader.getframerate()
        return frames / rate


def mp4_seconds(data: bytes) -> float:
    """The movie duration from the `mvhd` box inside `moov`, after checking the `ftyp` box."""
    assert data[4:8] == b"ftyp"
    moov = _box(data, b"moov")
    mvhd = _box(moov, b"mvhd")
    if mvhd[0] == 1:
        timescale, duration = struct.unpack(">IQ", mvhd[20:32])
    else:
        timescale, duration = struct.unpack(">II", mvhd[12:20])
    return float(duration / timescale)


def _box(data: bytes, kind: bytes) -> bytes:
    offset = 0
    while offset + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[offset : offset + 8])
        if name == kind:
            return data[offset + 8 : offset + size]
        offset += size
    raise AssertionError(f"no {kind!r} box")


async def test_flux_schnell_returns_a_list_of_one_png_showing_the_prompt_size(
    client: replicate.Client,
    http: httpx.AsyncClient,
) -> None:
    output = await client.async_run(
        "black-forest-labs/flux-schnell", input={"prompt": "a lighthouse at dusk"}
    )
    assert isinstance(output, list)
    assert len(output) == 1
    image = Image.open(io.BytesIO(await read(output[0], http)))
    assert (image.format, image.size) == ("PNG", (1024, 576))


async def test_flux_pro_returns_one_image_in_the_asked_format_and_aspect_ratio(
    client: replicate.Client,
    http: httpx.AsyncClient,
) -> None:
    output = await client.async_run(
        "black-forest-labs/flux-1.1-pro",
        input={"prompt": "a tall tower", "aspect_ratio": "9:16", "output_format": "webp"},
    )
    image = Image.open(io.BytesIO(await read(output, http)))
    assert (image.format, image.size) == ("WEBP", (576, 1024))


async def test_the_same_input_renders_the_same_bytes(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    ref, payload = "black-forest-labs/flux-1.1-pro", {"prompt": "same", "output_format": "jpg"}
    first = await read(await client.async_run(ref, input=payload), http)
    second = await read(await client.async_run(ref, input=payload), http)
    assert first == second
    assert Image.open(io.BytesIO(first)).format == "JPEG"


async def test_veo_returns_a_real_mp4_of_the_default_two_seconds(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    output = await client.async_run("google/veo-3", input={"prompt": "a slow pan"})
    assert mp4_seconds(await read(output, http)) == pytest.approx(2.0)


async def test_a_video_01_clip_lasts_about_six_seconds_whatever_duration_is_sent(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    # minimax/video-01 has no duration input and picks its own length (reference notes)
    plain = await client.async_run("minimax/video-01", input={"prompt": "a chalkboard"})
    asked = await client.async_run("minimax/video-01", input={"prompt": "waves", "duration": 2})
    assert mp4_seconds(await read(plain, http)) == pytest.approx(6.0)
    assert mp4_seconds(await read(asked, http)) == pytest.approx(6.0)


async def test_a_video_lasts_the_asked_duration(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    output = await client.async_run("google/veo-3", input={"prompt": "waves", "duration": 5})
    assert mp4_seconds(await read(output, http)) == pytest.approx(5.0)


async def test_narration_lasts_about_one_second_per_fifteen_characters(
    client: replicate.Client,
    http: httpx.AsyncClient,
) -> None:
    text = "Welcome to the lecture on the water cycle and the weather."
    output = await client.async_run(
        "minimax/speech-02-turbo",
        input={"text": text, "voice_id": "Wise_Woman", "audio_format": "wav"},
    )
    assert wav_seconds(await read(output, http)) == pytest.approx(len(text) / 15, abs=0.001)


async def test_short_narration_lasts_at_least_one_second(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    output = await client.async_run(
        "minimax/speech-02-turbo", input={"text": "Hi.", "audio_format": "wav"}
    )
    assert wav_seconds(await read(output, http)) == pytest.approx(1.0)


async def test_minimax_narration_is_a_real_mp3_by_default(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    text = "Welcome to the lecture on the water cycle and the weather."
    output = await client.async_run("minimax/speech-02-turbo", input={"text": text})
    assert isinstance(output, str)
    assert output.endswith("/out-0.mp3")
    data = await read(output, http)
    assert data[:3] == b"ID3"
    with av.open(io.BytesIO(data), mode="r") as container:
        (stream,) = container.streams.audio
        assert container.format.name == "mp3"
        assert stream.codec_context.name.startswith("mp3")
        assert container.duration is not None
        seconds = container.duration / av.time_base
    assert seconds == pytest.approx(len(text) / 15, abs=0.1)  # the encoder pads a frame or two


async def test_kokoro_runs_by_version_and_honours_an_explicit_duration(
    client: replicate.Client,
    http: httpx.AsyncClient,
) -> None:
    assert KOKORO is not None
    output = await client.async_run(
        f"jaaari/kokoro-82m:{KOKORO.version}",
        input={"text": "Hello there", "voice": "af_bella", "duration": 3.5},
    )
    assert wav_seconds(await read(output, http)) == pytest.approx(3.5)


async def test_musicgen_lasts_exactly_the_asked_duration(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    assert MUSICGEN is not None
    output = await client.async_run(
        f"meta/musicgen:{MUSICGEN.version}", input={"prompt": "calm piano", "duration": 12}
    )
    assert wav_seconds(await read(output, http)) == 12.0


async def test_stable_audio_lasts_eight_seconds_by_default(
    client: replicate.Client, http: httpx.AsyncClient
) -> None:
    output = await client.async_run("stability-ai/stable-audio-2.5", input={"prompt": "rain"})
    assert wav_seconds(await read(output, http)) == 8.0

from __future__ import annotations

import io
import struct
import wave

import pytest

from shared.blobstore.probe import (
    media_duration,
    mp3_duration,
    mp4_duration,
    sniff_content_type,
    wav_duration,
)


def wav_bytes(seconds: float, rate: int = 16000, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x01\x00" * channels * round(seconds * rate))
    return buffer.getvalue()


def box(name: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), name) + payload


def mvhd_v0(timescale: int, duration: int) -> bytes:
    return box(b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, timescale, duration) + bytes(80))


def mvhd_v1(timescale: int, duration: int) -> bytes:
    body = b"\x01\x00\x00\x00" + struct.pack(">QQIQ", 0, 0, timescale, duration) + bytes(80)
    return box(b"mvhd", body)


def mp4_bytes(mvhd: bytes) -> bytes:
    ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
    return ftyp + box(b"free", b"") + box(b"moov", mvhd + box(b"trak", b"")) + box(b"mdat", b"x")


def mp3_frame(padding: int = 0, payload: bytes = b"") -> bytes:
    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, stereo: 417 bytes a frame (+1 with padding).
    header = bytes([0xFF, 0xFB, 0x90 | (padding << 1), 0x00])
    size = 144 * 128_000 // 44_100 + padding
    return (header + payload).ljust(size, b"\x00")


def id3_tag(size: int) -> bytes:
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x04\x00\x00" + syncsafe + bytes(size)


# --- sniffing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a\x01\x00", "image/gif"),
        (wav_bytes(0.1), "audio/wav"),
        (id3_tag(10) + mp3_frame(), "audio/mpeg"),
        (mp3_frame() * 2, "audio/mpeg"),
        (mp4_bytes(mvhd_v0(1000, 1000)), "video/mp4"),
        (box(b"ftyp", b"M4A \x00\x00\x00\x00"), "audio/mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "video/webm"),
        (b"OggS\x00\x02", "audio/ogg"),
    ],
)
def test_media_is_recognised_by_its_signature(data: bytes, content_type: str) -> None:
    assert sniff_content_type(data) == content_type


@pytest.mark.parametrize("data", [b"", b"<!doctype html><html>", b'{"detail": "x"}', b"\xff\xd0"])
def test_anything_else_is_not_recognised(data: bytes) -> None:
    assert sniff_content_type(data) is None


# --- WAV ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "rate", "channels"), [(1.0, 16000, 1), (2.5, 44100, 2)])
def test_wav_duration_comes_from_the_header(seconds: float, rate: int, channels: int) -> None:
    assert wav_duration(wav_bytes(seconds, rate, channels)) == pytest.approx(seconds)


def test_a_streamed_wav_without_a_data_size_plays_to_the_end_of_the_file() -> None:
    data = bytearray(wav_bytes(1.0))
    at = data.index(b"data")
    data[at + 4 : at + 8] = b"\xff\xff\xff\xff"
    assert wav_duration(bytes(data)) == pytest.approx(1.0)


def test_a_truncated_wav_plays_for_what_is_there() -> None:
    data = wav_bytes(2.0)
    assert wav_duration(data[: len(data) // 2]) == pytest.approx(1.0, abs=0.01)


def test_a_wav_without_a_format_chunk_has_no_duration() -> None:
    assert wav_duration(b"RIFF\x10\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd") is None


# --- MP4 ------------------------------------------------------------------------------------------


def test_mp4_duration_comes_from_the_version_0_movie_header() -> None:
    assert mp4_duration(mp4_bytes(mvhd_v0(600, 3600))) == pytest.approx(6.0)


def test_mp4_duration_comes_from_the_version_1_movie_header() -> None:
    assert mp4_duration(mp4_bytes(mvhd_v1(90000, 90000 * 12))) == pytest.approx(12.0)


def test_boxes_with_a_64_bit_size_are_walked() -> None:
    big_free = struct.pack(">I4sQ", 1, b"free", 16 + 4) + b"abcd"
    data = box(b"ftyp", b"isom") + big_free + box(b"moov", mvhd_v0(1000, 2500))
    assert mp4_duration(data) == pytest.approx(2.5)


@pytest.mark.parametrize(
    "data",
    [
        box(b"ftyp", b"isom") + box(b"mdat", b"x"),  # no moov
        box(b"ftyp", b"isom") + box(b"moov", box(b"trak", b"")),  # no mvhd
        mp4_bytes(mvhd_v0(0, 100)),  # no timescale
        b"\x00\x00\x00\x04ftyp",  # a box smaller than its header
    ],
)
def test_mp4_without_a_readable_movie_header_has_no_duration(data: bytes) -> None:
    assert mp4_duration(data) is None


# --- MP3 ------------------------------------------------------------------------------------------


def test_a_constant_bitrate_mp3_is_estimated_from_its_size() -> None:
    frames = 100
    data = id3_tag(64) + mp3_frame() * frames
    assert mp3_duration(data) == pytest.approx(frames * 1152 / 44100, rel=0.01)


def test_a_xing_header_gives_the_exact_frame_count() -> None:
    xing = bytes(32) + b"Xing" + struct.pack(">II", 1, 500)
    data = mp3_frame(payload=xing) + mp3_frame() * 3
    assert mp3_duration(data) == pytest.approx(500 * 1152 / 44100)


def test_bytes_without_a_frame_have_no_mp3_duration() -> None:
    assert mp3_duration(id3_tag(10) + b"not audio") is None


# --- dispatch -----------------------------------------------------------------------------------


def test_durations_are_read_only_for_audio_and_video() -> None:
    assert media_duration(wav_bytes(1.0), "audio/x-wav") == pytest.approx(1.0)
    assert media_duration(mp4_bytes(mvhd_v0(1000, 4000)), "video/mp4") == pytest.approx(4.0)
    assert media_duration(b"\x89PNG\r\n\x1a\n", "image/png") is None

"""What a media file is and how long it plays, read from its bytes (pure, no decoding).

Durations come from headers: WAV from its `fmt ` and `data` chunks, MP4 from the `mvhd` box,
MP3 from a Xing/Info/VBRI frame count or, failing that, the first frame's bitrate (a CBR
estimate). Each answers None when the bytes do not say.
"""

from __future__ import annotations

import struct

from shared.blobstore.keys import normalize_content_type

_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
)
_FTYP_BRANDS = {b"M4A ": "audio/mp4", b"qt  ": "video/quicktime"}


def sniff_content_type(data: bytes) -> str | None:
    """The media type the bytes' signature shows, or None for anything unrecognised."""
    for offset, magic, content_type in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return content_type
    if data[:4] == b"RIFF" and data[8:12] in (b"WEBP", b"WAVE"):
        return "image/webp" if data[8:12] == b"WEBP" else "audio/wav"
    if data[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(data[8:12], "video/mp4")
    if _mp3_frame(data, 0) is not None:
        return "audio/mpeg"
    return None


def media_duration(data: bytes, content_type: str) -> float | None:
    """How long audio or video plays, in seconds; None for stills or when unreadable."""
    kind = normalize_content_type(content_type)
    if kind == "audio/wav":
        return wav_duration(data)
    if kind in ("video/mp4", "audio/mp4", "video/quicktime"):
        return mp4_duration(data)
    if kind == "audio/mpeg":
        return mp3_duration(data)
    return None


# --- WAV --------------------------------------------------------------------------------


def wav_duration(data: bytes) -> float | None:
    """`data` chunk size over the `fmt ` chunk's byte rate."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    byte_rate: int | None = None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        body = offset + 8
        if chunk_id == b"fmt " and size >= 16 and body + 16 <= len(data):
            byte_rate = struct.unpack_from("<I", data, body + 8)[0]
        elif chunk_id == b"data":
            # Streamed WAVs leave the size at 0 or 0xFFFFFFFF: the rest of the file is audio.
            available = len(data) - body
            size = available if size in (0, 0xFFFFFFFF) else min(size, available)
            return size / byte_rate if byte_rate else None
        offset = body + size + (size & 1)
    return None


# --- MP4 --------------------------------------------------------------------------------


def mp4_duration(data: bytes) -> float | None:
    """The movie header's duration over its timescale."""
    moov = _find_box(data, 0, len(data), b"moov")
    if moov is None:
        return None
    mvhd = _find_box(data, moov[0], moov[1], b"mvhd")
    if mvhd is None:
        return None
    start, end = mvhd
    version = data[start] if start < end else None
    if version == 0 and end - start >= 20:
        timescale, duration = struct.unpack_from(">II", data, start + 12)
        unknown = 0xFFFFFFFF
    elif version == 1 and end - start >= 32:
        timescale, duration = struct.unpack_from(">IQ", data, start + 20)
        unknown = 0xFFFFFFFFFFFFFFFF
    else:
        return None
    return duration / timescale if timescale and duration != unknown else None


def _find_box(data: bytes, start: int, end: int, wanted: bytes) -> tuple[int, int] | None:
    """The payload span of the first box named `wanted` among the boxes in `[start, end)`."""
    offset = start
    while offset + 8 <= end:
        size, name = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1 and offset + 16 <= end:
            size, header = struct.unpack_from(">Q", data, offset + 8)[0], 16
        elif size == 0:
            size = end - offset
        if size < header:
            return None
        if name == wanted:
            return offset + header, min(offset + size, end)
        offset += size
    return None


# --- MP3 --------------------------------------------------------------------------------

_MP3_BITRATES_KBPS = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}


def mp3_duration(data: bytes) -> float | None:
    """Frames (from a Xing, Info or VBRI header) times samples per frame over the sample rate;
    without such a header, a constant-bitrate estimate."""
    start = _skip_id3(data)
    frame = _mp3_frame(data, start)
    if frame is None:
        return None
    version, layer, bitrate, rate, mono = frame
    per_frame = 384 if layer == 1 else 1152 if (layer == 2 or version == 1) else 576
    frames = _vbr_frame_count(data, start, version, mono)
    if frames is not None:
        return frames * per_frame / rate
    return (len(data) - start) * 8 / (bitrate * 1000)


def _skip_id3(data: bytes) -> int:
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    return 10 + size + (10 if data[5] & 0x10 else 0)


def _mp3_frame(data: bytes, at: int) -> tuple[int, int, int, int, bool] | None:
    """(MPEG version 1/2/25, layer, bitrate kbps, sample rate, mono) of a frame header at `at`."""
    if at + 4 > len(data) or data[at] != 0xFF or data[at + 1] & 0xE0 != 0xE0:
        return None
    version_bits, layer_bits = (data[at + 1] >> 3) & 3, (data[at + 1] >> 1) & 3
    bitrate_index, rate_index = data[at + 2] >> 4, (data[at + 2] >> 2) & 3
    if version_bits == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    version = {3: 1, 2: 2, 0: 25}[version_bits]
    layer = 4 - layer_bits
    bitrate = _MP3_BITRATES_KBPS[(min(version, 2), layer)][bitrate_index]
    return version, layer, bitrate, _MP3_RATES[version][rate_index], data[at + 3] >> 6 == 3


def _vbr_frame_count(data: bytes, start: int, version: int, mono: bool) -> int | None:
    side_info = (17 if mono else 32) if version == 1 else (9 if mono else 17)
    xing = start + 4 + side_info
    if data[xing : xing + 4] in (b"Xing", b"Info") and len(data) >= xing + 12:
        flags, frames = struct.unpack_from(">II", data, xing + 4)
        return int(frames) if flags & 1 else None
    vbri = start + 36
    if data[vbri : vbri + 4] == b"VBRI" and len(data) >= vbri + 18:
        return int(struct.unpack_from(">I", data, vbri + 14)[0])
    return None

"""MP3 audio, encoded in-process by PyAV's bundled FFmpeg (libmp3lame), from 16-bit PCM mono."""

from __future__ import annotations

import io

import av

BIT_RATE = 64_000


def encode_mp3(pcm: bytes, sample_rate: int) -> bytes:
    """An MP3 file (MPEG-1 or -2 layer III, constant bit rate) of the little-endian `pcm`."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libmp3lame", rate=sample_rate)
        stream.bit_rate = BIT_RATE
        stream.layout = "mono"
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        frame.planes[0].update(pcm)
        frame.sample_rate = sample_rate
        frame.pts = 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()

"""Short real MP4 clips (H.264 in an MP4 container, encoded in-process by PyAV's bundled FFmpeg).

Each clip shows its prompt over a colour chosen by the seed, with a bar that fills as the clip
plays. Encoding is single-threaded and bit-exact, so the same request gives the same bytes.
"""

from __future__ import annotations

import io
import random
import textwrap
from dataclasses import dataclass

import av
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 320, 180
FPS = 12


@dataclass(frozen=True)
class VideoRequest:
    """What to film: the text, the seed for colours and the length in seconds."""

    text: str
    seed: int
    duration_s: float = 2.0


def render_mp4(request: VideoRequest) -> bytes:
    """An H.264 MP4 of `duration_s` seconds (rounded to whole frames), 320x180 at 12 fps."""
    frame_count = max(1, round(request.duration_s * FPS))
    still = _still(request.text or "(no prompt)", request.seed)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream(
            "libx264", rate=FPS, options={"preset": "ultrafast", "threads": "1"}
        )
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for index in range(frame_count):
            image = _with_progress(still, (index + 1) / frame_count)
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def _still(text: str, seed: int) -> Image.Image:
    rng = random.Random(seed)
    colour = tuple(rng.randrange(20, 120) for _ in range(3))
    image = Image.new("RGB", (WIDTH, HEIGHT), colour)
    lines = textwrap.wrap(text, 32)[:5]
    ImageDraw.Draw(image).multiline_text(
        (WIDTH // 2, HEIGHT // 2 - 10),
        "\n".join(lines),
        font=ImageFont.load_default(size=16),
        fill=(255, 255, 255),
        anchor="mm",
        align="center",
    )
    return image


def _with_progress(still: Image.Image, done: float) -> Image.Image:
    frame = still.copy()
    right = 10 + int((WIDTH - 20) * done)
    ImageDraw.Draw(frame).rectangle((10, HEIGHT - 20, right, HEIGHT - 12), fill=(255, 255, 255))
    return frame

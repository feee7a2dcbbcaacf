"""Still images that show their prompt: a colour gradient chosen by the seed, the text on top."""

from __future__ import annotations

import io
import random
import textwrap
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

LONG_SIDE = 1024
DEFAULT_ASPECT_RATIO = "16:9"
FORMATS = {
    "png": ("PNG", "image/png"),
    "jpg": ("JPEG", "image/jpeg"),
    "webp": ("WEBP", "image/webp"),
}
MAX_LINES = 8


@dataclass(frozen=True)
class ImageRequest:
    """What to draw: the text, the seed for colours, the aspect ratio and the file format."""

    text: str
    seed: int
    aspect_ratio: str = DEFAULT_ASPECT_RATIO
    output_format: str = "png"


def image_size(aspect_ratio: str) -> tuple[int, int]:
    """Width and height for `w:h`, the long side 1024 px and both sides multiples of 16."""
    width_part, _, height_part = aspect_ratio.partition(":")
    try:
        ratio = int(width_part) / int(height_part)
    except (ValueError, ZeroDivisionError):
        return image_size(DEFAULT_ASPECT_RATIO)
    if ratio >= 1:
        return LONG_SIDE, _multiple_of_16(LONG_SIDE / ratio)
    return _multiple_of_16(LONG_SIDE * ratio), LONG_SIDE


def render_image(request: ImageRequest) -> tuple[bytes, str]:
    """The encoded image and its content type."""
    image = _background(image_size(request.aspect_ratio), request.seed)
    _draw_text(image, request.text or "(no prompt)")
    pil_format, content_type = FORMATS.get(request.output_format, FORMATS["png"])
    buffer = io.BytesIO()
    image.save(buffer, format=pil_format, **_encoder_options(pil_format))
    return buffer.getvalue(), content_type


def _multiple_of_16(length: float) -> int:
    return max(16, round(length / 16) * 16)


def _background(size: tuple[int, int], seed: int) -> Image.Image:
    rng = random.Random(seed)
    dark = tuple(rng.randrange(10, 90) for _ in range(3))
    light = tuple(rng.randrange(90, 180) for _ in range(3))
    return ImageOps.colorize(_gradient(size), black=dark, white=light)


@cache
def _gradient(size: tuple[int, int]) -> Image.Image:
    """The grey ramp every background is coloured from (read only: `colorize` makes a new
    image), made once per size: a server answering many predictions draws it once."""
    return Image.linear_gradient("L").resize(size)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _draw_text(image: Image.Image, text: str) -> None:
    width, height = image.size
    font_size = max(12, min(width, height) // 12)
    font = _font(font_size)
    columns = max(10, int(width * 0.9 / (font_size * 0.55)))
    lines = textwrap.wrap(text, columns)[:MAX_LINES]
    if len(textwrap.wrap(text, columns)) > MAX_LINES:
        lines[-1] = lines[-1][: columns - 1] + "…"
    draw = ImageDraw.Draw(image)
    draw.multiline_text(
        (width // 2, height // 2),
        "\n".join(lines),
        font=font,
        fill=(255, 255, 255),
        anchor="mm",
        align="center",
        spacing=font_size // 3,
    )
    draw.rectangle((4, 4, width - 5, height - 5), outline=(255, 255, 255), width=2)


def _encoder_options(pil_format: str) -> dict[str, object]:
    if pil_format == "PNG":
        # The fastest deflate level: a gradient with text compresses well at any level, and
        # the encoding is most of what a simulated image costs (the server makes one for every
        # image prediction, many a second under load).
        return {"optimize": False, "compress_level": 1}
    return {"quality": 85}

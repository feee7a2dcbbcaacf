"""Still images that show their prompt: a colour gradient chosen by the seed, the text on top."""

from __future__ import annotations

import io
import random
import textwrap
from dataclasses import dataclass

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
    gradient = Image.linear_gradient("L").resize(size)
    return ImageOps.colorize(gradient, black=dark, white=light)


def _draw_text(image: Image.Image, text: str) -> None:
    width, height = image.size
    font_size = max(12, min(width, height) // 12)
    font = ImageFont.load_default(size=font_size)
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
        return {"optimize": False, "compress_level": 6}
    return {"quality": 85}

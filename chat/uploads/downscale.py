"""Shrink images larger than a vision model can use, keeping their aspect and format."""

from __future__ import annotations

import io

from django.conf import settings
from PIL import Image, ImageOps

# Re-encoding options per format: near-visually-lossless, and quick to write.
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 90},
    "WEBP": {"quality": 90},
    "PNG": {},
    "GIF": {},
}


def max_side() -> int:
    """Return the longest side, in pixels, an image is stored and sent with."""
    return int(settings.IMAGE_MAX_SIDE)


def is_oversized(width: int, height: int) -> bool:
    return max(width, height) > max_side()


def downscale(data: bytes) -> tuple[bytes, int, int]:
    """Return the image resized to fit ``max_side()`` (Lanczos), in its format, and its size.

    The EXIF orientation is applied to the pixels, since the re-encoded file carries no
    EXIF (nor the location a camera may have put there). An animated GIF keeps its first
    frame only: resizing every frame costs a decode and an encode each, and a GIF goes
    upstream as an image part, never as a video.
    """
    with Image.open(io.BytesIO(data)) as opened:
        fmt = opened.format or "PNG"
        image: Image.Image = opened
        if image.mode in ("P", "1"):  # palette and 1-bit images resize poorly as they are
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        # thumbnail() keeps the aspect ratio and lets JPEG decode at a reduced scale (draft).
        # The box is square, so fitting before the EXIF rotation fits after it too.
        image.thumbnail((max_side(), max_side()), Image.Resampling.LANCZOS)
        image = ImageOps.exif_transpose(image)
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **_SAVE_OPTIONS.get(fmt, {}))
        return buffer.getvalue(), image.width, image.height

"""The PNG bytes the API serves: what the API, the batch function and the arm64 check encode."""

from __future__ import annotations

import io

from PIL import Image


def png_bytes(image: Image.Image) -> bytes:
    """Encode an image as PNG, in memory."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def mask_png_bytes(mask: Image.Image) -> bytes:
    """A 0/255 mask as a 1-bit greyscale PNG: an eighth of the bytes to compress and send."""
    return png_bytes(mask.convert("1", dither=Image.Dither.NONE))

"""Decoding an image for the model: no more pixels than the model needs, upright, bounded.

The model sees a small square; the mask goes back at the image's own size, which needs only the
size, not the pixels. So a JPEG is decoded at a reduced DCT scale (draft mode) and any other
image is box-reduced in its own mode before the RGB conversion, keeping at least
`OVERSAMPLING` x the model input on each side before the final antialiased resize. One (not two,
as until 2026-12-02) was chosen on held-out Dice and speed: benchmarks/decode_scale.json. What
the serving API, the segment CLI and the evaluation read goes through here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image

from segcore.processing import to_rgb_array

OVERSAMPLING = 1
EXIF_ORIENTATION = ExifTags.Base.Orientation
# EXIF orientation -> the transposition that shows the image upright (as ImageOps.exif_transpose).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SWAPS_SIDES = frozenset(
    {
        Image.Transpose.TRANSPOSE,
        Image.Transpose.TRANSVERSE,
        Image.Transpose.ROTATE_90,
        Image.Transpose.ROTATE_270,
    }
)
# Bytes per pixel of the raster a full decode allocates: Pillow keeps 1, L and P in one byte and
# 16-bit greyscale in two, everything else (LA and PA included) in four; P counts as the RGB(A)
# it is converted to before reducing.
DECODED_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 4, "I;16": 2, "I;16B": 2, "I;16L": 2}


@dataclass(frozen=True)
class Decoded:
    """An image as the model needs it: reduced RGB pixels and the upright full size."""

    pixels: np.ndarray
    """(h, w, 3) uint8, upright, at least OVERSAMPLING x the model size a side where possible."""
    width: int
    height: int


def orientation(image: Image.Image) -> int:
    """The EXIF orientation (1..8); 1 when there is none or the EXIF block cannot be parsed."""
    try:
        value = image.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # a malformed EXIF block must not make a good image unreadable
        return 1
    return value if isinstance(value, int) and value in range(1, 9) else 1


def decoded_bytes(image: Image.Image) -> int:
    """Bytes of the raster that loading `image` (after any draft) allocates."""
    width, height = image.size
    return width * height * DECODED_BYTES_PER_PIXEL.get(image.mode, 4)


def draft_for_model(
    image: Image.Image, model_size: int, oversampling: int = OVERSAMPLING
) -> tuple[int, int]:
    """Before loading: ask a JPEG for the smallest DCT scale that keeps enough pixels.

    Returns the stored (width, height), which a draft replaces in `image.size`.
    """
    stored = image.size
    if image.format in ("JPEG", "MPO"):
        side = oversampling * model_size
        image.draft(None, (side, side))
    return stored


def reduce_to_model(
    image: Image.Image, model_size: int, oversampling: int = OVERSAMPLING
) -> Image.Image:
    """Box-reduce a loaded image in its own mode to at least `oversampling` x model_size a side."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "1":
        image = image.convert("L")
    factor = min(image.size) // (oversampling * model_size)
    if factor < 2:
        return image
    width, height = image.size
    return image.resize((width // factor, height // factor), Image.Resampling.BOX)


def decode_for_model(
    image: Image.Image, model_size: int, stored: tuple[int, int], oversampling: int = OVERSAMPLING
) -> Decoded:
    """Load an opened, drafted image (see `draft_for_model`) into a `Decoded`; the image is
    closed afterwards, so its full-size raster is freed at once."""
    image.load()  # first: a PNG's EXIF may follow its pixels, and a broken file must fail here
    turn = UPRIGHT.get(orientation(image))
    pixels = to_rgb_array(reduce_to_model(image, model_size, oversampling))
    image.close()
    width, height = stored
    if turn is not None:
        pixels = np.asarray(Image.fromarray(pixels).transpose(turn), dtype=np.uint8)
        if turn in SWAPS_SIDES:
            width, height = height, width
    return Decoded(pixels, width, height)


def read_for_model(
    image: Image.Image, model_size: int, oversampling: int = OVERSAMPLING
) -> Decoded:
    """Draft, load, reduce and turn upright an opened image (a trusted file: no limits)."""
    stored = draft_for_model(image, model_size, oversampling)
    return decode_for_model(image, model_size, stored, oversampling)

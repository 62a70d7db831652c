"""Decoding uploads safely: every bad input becomes an UploadError with a status and a message."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from segcore.processing import upright_rgb

SUPPORTED_FORMATS = frozenset({"JPEG", "PNG"})
MIN_SIDE = 16


class UploadError(Exception):
    """A client error in the uploaded file, with the HTTP status to answer."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


def decode_image(data: bytes, max_bytes: int, max_pixels: int) -> np.ndarray:
    """Decode a JPEG or PNG upload to an RGB uint8 array, upright per its EXIF orientation."""
    if not data:
        raise UploadError(400, "the uploaded file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise UploadError(413, f"the file is {len(data):,} bytes; the limit is {max_bytes:,}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise UploadError(415, "the file is not a readable image; send a JPEG or PNG") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadError(413, f"the image has too many pixels (limit {max_pixels:,})") from None
    except OSError as error:
        raise UploadError(422, f"the image cannot be read: {error}") from None
    if image.format not in SUPPORTED_FORMATS:
        raise UploadError(415, f"unsupported image type {image.format}; send a JPEG or PNG")
    width, height = image.size
    if width * height > max_pixels:
        raise UploadError(
            413, f"the image is {width}x{height} pixels; the limit is {max_pixels:,} pixels"
        )
    if min(width, height) < MIN_SIDE:
        raise UploadError(422, f"the image is {width}x{height}; both sides must be >= {MIN_SIDE}")
    try:
        image.load()
        return upright_rgb(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UploadError(422, f"the image is corrupt or truncated: {error}") from None

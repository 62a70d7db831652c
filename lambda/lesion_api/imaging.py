"""Decoding uploads safely: every bad input becomes an UploadError with a status and a message.

Only the header is parsed before the limits are checked; the pixels are then decoded at no more
than the model needs (segcore.decoding). Any exception a decoder raises on untrusted bytes is
the file's fault, so it is a 4xx, never a 500.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from segcore.decoding import Decoded, decode_for_model, decoded_bytes, draft_for_model

# MPO is what phones write: a JPEG whose first frame is the picture (the rest are previews).
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG"})
MIN_SIDE = 16
# Bytes per output pixel held while the mask is made: the 8-bit probability map and the 0/255
# mask, then the mask and its 1-bit copy for the PNG; measuring it works in strips.
MASK_BYTES_PER_PIXEL = 2


class UploadError(Exception):
    """A client error in the uploaded file, with the HTTP status to answer."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Parse the header (and, for PNG, the chunks before the pixels)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise UploadError(415, "the file is not a readable image; send a JPEG or PNG") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadError(413, f"the image has too many pixels (limit {max_pixels:,})") from None
    except Exception as error:  # truncated or oversized chunks, bad headers: the file's fault
        raise UploadError(422, f"the image cannot be read: {error}") from None


def _check_size(image: Image.Image, max_pixels: int) -> None:
    if image.format not in SUPPORTED_FORMATS:
        raise UploadError(415, f"unsupported image type {image.format}; send a JPEG or PNG")
    width, height = image.size
    if width * height > max_pixels:
        raise UploadError(
            413, f"the image is {width}x{height} pixels; the limit is {max_pixels:,} pixels"
        )
    if min(width, height) < MIN_SIDE:
        raise UploadError(422, f"the image is {width}x{height}; both sides must be >= {MIN_SIDE}")


@dataclass
class Upload:
    """An upload whose header passed every limit, drafted for the model, not decoded yet."""

    image: Image.Image
    stored_size: tuple[int, int]
    model_size: int

    @property
    def memory_bytes(self) -> int:
        """What serving it holds at most: the decoded raster (freed once reduced for the model),
        then the full-size mask."""
        width, height = self.stored_size
        return max(decoded_bytes(self.image), width * height * MASK_BYTES_PER_PIXEL)

    def decode(self) -> Decoded:
        """The pixels for the model; a decoder failure is a 422."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                return decode_for_model(self.image, self.model_size, self.stored_size)
        except Exception as error:  # any decoder failure on untrusted bytes is the file's fault
            raise UploadError(422, f"the image is corrupt or truncated: {error}") from None


def open_upload(
    data: bytes, model_size: int, max_bytes: int, max_pixels: int, max_decode_bytes: int
) -> Upload:
    """Check a JPEG (or MPO) or PNG upload's size, type and header, and plan its decode.

    `max_decode_bytes` caps the raster the decoder may allocate (after a JPEG's reduced-scale
    draft): it bounds the memory one request can take.
    """
    if not data:
        raise UploadError(400, "the uploaded file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise UploadError(413, f"the file is {len(data):,} bytes; the limit is {max_bytes:,}")
    image = _open(data, max_pixels)
    _check_size(image, max_pixels)
    try:
        stored = draft_for_model(image, model_size)
    except Exception as error:
        raise UploadError(422, f"the image cannot be read: {error}") from None
    needed = decoded_bytes(image)
    if needed > max_decode_bytes:
        width, height = image.size
        raise UploadError(
            413,
            f"decoding this {width}x{height} {image.mode} image needs {needed:,} bytes; "
            f"the limit is {max_decode_bytes:,}",
        )
    return Upload(image, stored, model_size)

"""Helpers for the serving tests: app factory on the fixture model, real broken files."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

FIXTURES = Path(__file__).parent / "fixtures"
BATCH_BUCKET = "lesion-batch"
"""The batch bucket the batch tests create in moto S3 (fixture `batch_s3`)."""
TINY_TFLITE = FIXTURES / "models" / "unet_tiny_int8.tflite"
SAMPLE_JPEG = FIXTURES / "samples" / "ISIC_0000012.jpg"


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def sample_image() -> Image.Image:
    with Image.open(SAMPLE_JPEG) as image:
        return image.convert("RGB").resize((256, 192))


def png_bomb(width: int, height: int) -> bytes:
    """A valid greyscale PNG of width x height black pixels, a few hundred KB on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def jpeg_with_orientation(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", exif=exif.tobytes())

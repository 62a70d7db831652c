"""Helpers for the serving tests: app factory on the fixture model, real broken files."""

from __future__ import annotations

import base64
import copy
import io
import json
import struct
import uuid
import zlib
from pathlib import Path

from PIL import Image

FIXTURES = Path(__file__).parent / "fixtures"
TINY_TFLITE = FIXTURES / "models" / "unet_tiny_int8.tflite"
SAMPLE_JPEG = FIXTURES / "samples" / "ISIC_0000012.jpg"


EVENTS = FIXTURES / "events"


def multipart(data: bytes, filename: str = "lesion.jpg") -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
            f"\r\nContent-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", body


def event(
    version: str,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict | None = None,
    query: str = "",
) -> dict:
    name = "http_api_v2.json" if version == "v2" else "rest_api_v1.json"
    ev = copy.deepcopy(json.loads((EVENTS / name).read_text()))
    headers = {"host": "id.execute-api.us-east-1.amazonaws.com", **(headers or {})}
    ev["body"] = base64.b64encode(body).decode() if body else None
    ev["isBase64Encoded"] = bool(body)
    ev["headers"] = headers
    if version == "v2":
        ev["rawPath"] = ev["requestContext"]["http"]["path"] = path
        ev["requestContext"]["http"]["method"] = method
        ev["rawQueryString"] = query
        ev["queryStringParameters"] = dict(p.split("=") for p in query.split("&")) if query else {}
        ev.pop("cookies", None)
    else:
        ev["path"] = path
        ev["httpMethod"] = ev["requestContext"]["httpMethod"] = method
        ev["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
        params = dict(p.split("=") for p in query.split("&")) if query else None
        ev["queryStringParameters"] = params
        ev["multiValueQueryStringParameters"] = {k: [v] for k, v in (params or {}).items()} or None
    return ev


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def sample_image() -> Image.Image:
    return Image.open(SAMPLE_JPEG).convert("RGB").resize((256, 192))


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

"""A small client for the segmentation API: every failure becomes an ApiError with a message."""

from __future__ import annotations

import base64
import io
import time
from dataclasses import dataclass

import requests
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_BYTES = 4_300_000  # the API's limit (6 MB Lambda payload after base64)


class ApiError(Exception):
    """Something the user should read: unreachable, timed out, refused (with the API's detail)."""


@dataclass
class Result:
    """One segmentation, decoded."""

    mask: Image.Image
    probability: Image.Image | None
    body: dict
    round_trip_ms: float


def _url(base: str, path: str) -> str:
    return base.rstrip("/") + path


def _detail(response: requests.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return str(detail) if detail else (response.text[:200] or response.reason)


def _send(method: str, url: str, timeout: float, **kwargs) -> requests.Response:
    try:
        response = requests.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout:
        raise ApiError(f"the API at {url} did not answer within {timeout:g} s") from None
    except requests.RequestException as error:
        raise ApiError(f"cannot reach the API at {url} ({type(error).__name__})") from None
    if response.status_code >= 400:
        raise ApiError(f"the API answered {response.status_code}: {_detail(response)}")
    return response


def health(base_url: str, timeout: float = 5.0) -> dict:
    """The API's /health document."""
    try:
        return _send("GET", _url(base_url, "/health"), timeout).json()
    except ValueError:
        raise ApiError(
            f"{base_url} did not answer with JSON: is it the segmentation API?"
        ) from None


def check_image(name: str, data: bytes) -> None:
    """Refuse, before sending, what the API would refuse for sure: too big, not an image."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(f"{name} is {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise ApiError(f"{name} is not a readable JPEG or PNG image") from None


def segment(
    base_url: str,
    name: str,
    data: bytes,
    mime: str,
    pixel_spacing_mm: float | None,
    timeout: float = 30.0,
) -> Result:
    """POST the image to /v1/segment (with the probability map) and decode the reply."""
    check_image(name, data)
    params: dict = {"include_probability": "true"}
    if pixel_spacing_mm:
        params["pixel_spacing_mm"] = pixel_spacing_mm
    start = time.perf_counter()
    response = _send(
        "POST",
        _url(base_url, "/v1/segment"),
        timeout,
        files={"file": (name, data, mime)},
        params=params,
    )
    round_trip = (time.perf_counter() - start) * 1000
    body = response.json()
    probability = body.get("probability_png_base64")
    return Result(
        mask=Image.open(io.BytesIO(base64.b64decode(body["mask_png_base64"]))),
        probability=Image.open(io.BytesIO(base64.b64decode(probability))) if probability else None,
        body=body,
        round_trip_ms=round_trip,
    )

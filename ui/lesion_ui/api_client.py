"""A small client for the segmentation API: every failure becomes an ApiError with a message.
Answers are validated into the API's own models (lesion_api.schemas): one contract."""

from __future__ import annotations

import base64
import io
import time
from dataclasses import dataclass
from typing import Any

import requests
from PIL import Image, UnidentifiedImageError
from pydantic import ValidationError

from lesion_api.schemas import Health, Segmentation


class ApiError(Exception):
    """Something the user should read: unreachable, timed out, refused (with the API's detail)."""


@dataclass
class Result:
    """One segmentation, decoded."""

    mask: Image.Image
    probability: Image.Image | None
    body: Segmentation
    round_trip_ms: float


def _url(base: str, path: str) -> str:
    return base.rstrip("/") + path


def _detail(response: requests.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return str(detail) if detail else (response.text[:200] or response.reason)


def _send(
    method: str, url: str, timeout: float, answers: tuple[int, ...] = (), **kwargs: Any
) -> requests.Response:
    """The response, or an ApiError; `answers` are error statuses that still carry an answer."""
    try:
        response = requests.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout:
        raise ApiError(f"the API at {url} did not answer within {timeout:g} s") from None
    except requests.RequestException as error:
        raise ApiError(f"cannot reach the API at {url} ({type(error).__name__})") from None
    if response.status_code >= 400 and response.status_code not in answers:
        raise ApiError(f"the API answered {response.status_code}: {_detail(response)}")
    return response


def health(base_url: str, timeout: float = 5.0) -> Health:
    """The API's /health document (503 included: it says why the model is missing)."""
    response = _send("GET", _url(base_url, "/health"), timeout, answers=(503,))
    try:
        return Health.model_validate_json(response.content)
    except ValidationError:
        raise ApiError(f"{base_url} is not the segmentation API (its /health differs)") from None


def check_image(name: str, data: bytes, max_upload_bytes: int) -> None:
    """Refuse, before sending, what the API would refuse for sure: too big, not an image."""
    if len(data) > max_upload_bytes:
        raise ApiError(
            f"{name} is {len(data):,} bytes; the API accepts at most {max_upload_bytes:,}"
        )
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
    max_upload_bytes: int,
    timeout: float = 30.0,
) -> Result:
    """POST the image to /v1/segment (with the probability map) and decode the reply."""
    check_image(name, data, max_upload_bytes)
    params: dict[str, str | float] = {"include_probability": "true"}
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
    try:
        body = Segmentation.model_validate_json(response.content)
    except ValidationError:
        raise ApiError(f"{base_url} answered something that is not a segmentation") from None
    probability = body.probability_png_base64
    return Result(
        mask=Image.open(io.BytesIO(base64.b64decode(body.mask_png_base64))),
        probability=Image.open(io.BytesIO(base64.b64decode(probability))) if probability else None,
        body=body,
        round_trip_ms=round_trip,
    )

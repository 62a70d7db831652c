"""One segmentation request: decode, predict through the shared processing, measure, encode."""

from __future__ import annotations

import base64
import io
import time

import numpy as np
from PIL import Image

from app.imaging import decode_image
from app.measurements import confidence, measure
from app.model import ModelState
from app.settings import Settings


def png_bytes(array: np.ndarray) -> bytes:
    """Encode a single-channel uint8 array as PNG, in memory."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def segment_upload(
    data: bytes,
    state: ModelState,
    settings: Settings,
    include_probability: bool,
    pixel_spacing_mm: float | None,
) -> tuple[np.ndarray, dict]:
    """Return (0/255 mask at the upload's size, JSON-ready result)."""
    assert state.predictor is not None and state.info is not None
    start = time.perf_counter()
    image = decode_image(data, settings.max_upload_bytes, settings.max_image_pixels)
    decoded = time.perf_counter()
    mask, probabilities = state.predictor.segment(image)
    inferred = time.perf_counter()
    result = {
        "model": state.info,
        "image": {"width": image.shape[1], "height": image.shape[0]},
        "mask_png_base64": base64.b64encode(png_bytes(mask)).decode(),
        "probability_png_base64": base64.b64encode(
            png_bytes(np.round(probabilities * 255).astype(np.uint8))
        ).decode()
        if include_probability
        else None,
        "measurements": measure(mask, pixel_spacing_mm),
        "confidence": confidence(probabilities, mask),
    }
    done = time.perf_counter()
    result["timings_ms"] = {
        "decode_ms": (decoded - start) * 1000,
        "inference_ms": (inferred - decoded) * 1000,
        "postprocess_ms": (done - inferred) * 1000,
        "total_ms": (done - start) * 1000,
    }
    return mask, result

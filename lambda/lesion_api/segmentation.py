"""One segmentation request: check, decode, predict through the shared processing, measure,
encode."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from lesion_api.imaging import open_upload
from lesion_api.memory_budget import MemoryBudget
from lesion_api.model import ModelState
from lesion_api.schemas import Confidence, ImageSize, Measurements, Quality, Segmentation, Timings
from lesion_api.settings import UploadLimits
from segcore.encoding import mask_png_bytes, png_bytes
from segcore.measurements import confidence, measure


@dataclass(frozen=True)
class SegmentedUpload:
    """What a request returns: the mask PNG and the result."""

    mask_png: bytes
    result: Segmentation


def segment_upload(
    data: bytes,
    state: ModelState,
    limits: UploadLimits,
    budget: MemoryBudget,
    include_probability: bool,
    pixel_spacing_mm: float | None,
) -> SegmentedUpload:
    """Segment one upload; UploadError (a 4xx) for anything wrong with the file."""
    assert state.predictor is not None and state.info is not None and state.quality is not None
    start = time.perf_counter()
    upload = open_upload(
        data,
        state.predictor.input_size,
        limits.max_upload_bytes,
        limits.max_image_pixels,
        limits.max_decode_bytes,
    )
    with budget.reserve(upload.memory_bytes):
        image = upload.decode()
        decoded = time.perf_counter()
        segmented = state.predictor.segment(image, keep_probability_map=include_probability)
        del image
        inferred = time.perf_counter()
        mask_png = mask_png_bytes(segmented.mask)
        probability_png = (
            png_bytes(segmented.probability_map) if segmented.probability_map is not None else None
        )
        measurements = Measurements.model_validate(measure(segmented.mask, pixel_spacing_mm))
        certainty = Confidence.model_validate(confidence(segmented.probabilities))
        quality = state.quality.assess(segmented.probabilities)
        size = ImageSize(width=segmented.width, height=segmented.height)
        del segmented
    done = time.perf_counter()
    result = Segmentation(
        model=state.info,
        image=size,
        mask_png_base64=base64.b64encode(mask_png).decode(),
        probability_png_base64=base64.b64encode(probability_png).decode()
        if probability_png is not None
        else None,
        measurements=measurements,
        confidence=certainty,
        quality=Quality.model_validate(quality),
        timings_ms=Timings(
            decode_ms=(decoded - start) * 1000,
            inference_ms=(inferred - decoded) * 1000,
            postprocess_ms=(done - inferred) * 1000,
            total_ms=(done - start) * 1000,
        ),
    )
    return SegmentedUpload(mask_png, result)

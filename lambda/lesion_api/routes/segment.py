"""POST /v1/segment: lesion mask, measurements and confidence for an uploaded image."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, File, Header, HTTPException, Query, UploadFile
from fastapi.responses import Response

from lesion_api.dependencies import MemoryBudgetDep, MetricsDep, ModelDep, SettingsDep
from lesion_api.logs import fields
from lesion_api.schemas import (
    MAX_PIXEL_SPACING_MM,
    MIN_PIXEL_SPACING_MM,
    UPLOAD_MEDIA_TYPES,
    ErrorDetail,
    Segmentation,
)
from lesion_api.segmentation import segment_upload

log = logging.getLogger(__name__)
router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorDetail, "description": "empty file"},
    408: {"model": ErrorDetail, "description": "the request body did not arrive in time"},
    413: {"model": ErrorDetail, "description": "file too large, in bytes or pixels"},
    415: {"model": ErrorDetail, "description": "not a JPEG or PNG image"},
    422: {"model": ErrorDetail, "description": "missing field, bad parameter, corrupt image"},
    503: {"model": ErrorDetail, "description": "the model is not loaded"},
}


PREDICTED_DICE_HEADER = "X-Predicted-Dice"
NEEDS_REVIEW_HEADER = "X-Needs-Review"
QUALITY_HEADERS = (PREDICTED_DICE_HEADER, NEEDS_REVIEW_HEADER)
"""The quality estimate of an `Accept: image/png` answer, which has no JSON body to carry it."""


def _wants_png(accept: str | None) -> bool:
    return accept is not None and "image/png" in accept and "application/json" not in accept


@router.post(
    "/v1/segment",
    # The result is serialized here, once: FastAPI would validate it again against the model
    # (in a thread of its own, the route being sync). The schema still documents the model.
    response_model=None,
    responses={
        200: {
            "model": Segmentation,
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
            "description": "JSON result, or the mask PNG itself with Accept: image/png",
            "headers": {
                PREDICTED_DICE_HEADER: {
                    "description": "the PNG answer's quality.predicted_dice",
                    "schema": {"type": "string", "example": "0.8912"},
                },
                NEEDS_REVIEW_HEADER: {
                    "description": "the PNG answer's quality.needs_review",
                    "schema": {"type": "string", "enum": ["true", "false"]},
                },
            },
        },
        **ERRORS,
    },
    # The upload's accepted types, so clients and schema fuzzers know what "file" may hold.
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "encoding": {"file": {"contentType": ", ".join(UPLOAD_MEDIA_TYPES)}}
                }
            }
        }
    },
)
def segment(
    state: ModelDep,
    settings: SettingsDep,
    budget: MemoryBudgetDep,
    metrics: MetricsDep,
    file: Annotated[UploadFile, File(description="the image, JPEG or PNG")],
    include_probability: Annotated[
        bool, Query(description="also return the probability map as a PNG")
    ] = False,
    pixel_spacing_mm: Annotated[
        float | None,
        Query(
            ge=MIN_PIXEL_SPACING_MM,
            le=MAX_PIXEL_SPACING_MM,
            description="mm per pixel, for measurements in mm",
        ),
    ] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    if state.predictor is None:
        raise HTTPException(503, f"the model is not loaded: {state.error}")
    data = file.file.read()
    segmented = segment_upload(
        data,
        state,
        settings.upload_limits,
        budget,
        include_probability,
        pixel_spacing_mm,
    )
    result = segmented.result
    timings, image, quality = result.timings_ms, result.image, result.quality
    megapixels = image.width * image.height / 1e6
    log.info(
        "segmented",
        extra=fields(
            status=200,
            width=image.width,
            height=image.height,
            bytes=len(data),
            decode_ms=round(timings.decode_ms, 2),
            inference_ms=round(timings.inference_ms, 2),
            total_ms=round(timings.total_ms, 2),
            predicted_dice=quality.predicted_dice,
            needs_review=quality.needs_review,
            model_sha256=result.model.sha256,
        ),
    )
    metrics.emit(
        {
            "Segmentations": (1, "Count"),
            "DecodeLatency": (timings.decode_ms, "Milliseconds"),
            "InferenceLatency": (timings.inference_ms, "Milliseconds"),
            "TotalLatency": (timings.total_ms, "Milliseconds"),
            "ImageMegapixels": (megapixels, "None"),
            "NeedsReview": (int(quality.needs_review), "Count"),
        }
    )
    if _wants_png(accept):
        headers = {
            PREDICTED_DICE_HEADER: f"{quality.predicted_dice:.4f}",
            NEEDS_REVIEW_HEADER: "true" if quality.needs_review else "false",
        }
        return Response(segmented.mask_png, media_type="image/png", headers=headers)
    return Response(result.model_dump_json(), media_type="application/json")

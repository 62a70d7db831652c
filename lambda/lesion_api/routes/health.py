"""GET /health: is the model loaded, which one, on which runtime."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from lesion_api.dependencies import ModelDep, SettingsDep
from lesion_api.schemas import Health, Limits

router = APIRouter()


@router.head("/health", include_in_schema=False)
@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "the model could not be loaded"}},
)
def health(state: ModelDep, settings: SettingsDep) -> JSONResponse:
    body = Health(
        status="ok" if state.predictor else "error",
        model=state.info,
        runtime=state.runtime,
        limits=Limits(
            max_upload_bytes=settings.max_upload_bytes,
            max_image_pixels=settings.max_image_pixels,
        ),
        error=state.error,
    )
    return JSONResponse(body.model_dump(mode="json"), 200 if state.predictor else 503)

"""The FastAPI app: `app.main:app` (uvicorn) and the app behind the Lambda handler."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.formparsers import MultiPartParser

from app.errors import BodySizeLimit, install_error_handlers
from app.model import load_model
from app.routes import health, segment
from app.settings import Settings, get_settings

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
MULTIPART_OVERHEAD = 64 * 1024

DESCRIPTION = (
    "Skin-lesion segmentation with a U-Net trained on ISIC 2018, served from TFLite. "
    "**Research use only; not a medical device.** Uploads are processed in memory and never "
    "stored or logged."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app and load its model (once per container)."""
    settings = settings or get_settings()
    app = FastAPI(title="Skin-lesion segmentation API", version="1.0.0", description=DESCRIPTION)
    app.state.settings = settings
    app.state.model = load_model(settings)
    install_error_handlers(app)
    app.include_router(health.router, tags=["health"])
    app.include_router(segment.router, tags=["segmentation"])
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes + MULTIPART_OVERHEAD)
    return app


# Uploads stay in memory (never spooled to a temporary file): the body is capped above.
MultiPartParser.spool_max_size = get_settings().max_upload_bytes + MULTIPART_OVERHEAD
app = create_app()

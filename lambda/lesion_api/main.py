"""The FastAPI app factory: `uvicorn --factory lesion_api.main:create_app`, and the app behind
the Lambda handler. Nothing happens at import: logging, the multipart limit and the model come
from the settings passed to create_app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.formparsers import MultiPartParser

from lesion_api.allocator import fix_mmap_threshold
from lesion_api.dependencies import Serving
from lesion_api.docs_policy import DocsPolicy
from lesion_api.errors import RequestBodyGuard, install_error_handlers
from lesion_api.logs import configure_logging
from lesion_api.memory_budget import MemoryBudget
from lesion_api.metrics import Metrics
from lesion_api.model import load_model
from lesion_api.request_log import RequestLog
from lesion_api.routes import health, segment
from lesion_api.settings import Settings, get_settings

MULTIPART_OVERHEAD = 64 * 1024

DESCRIPTION = (
    "Skin-lesion segmentation with a U-Net trained on ISIC 2018, served from TFLite. "
    "**Research use only; not a medical device.** Uploads are processed in memory and never "
    "stored or logged."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app and load its model (once per container)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    # /docs and /redoc load Swagger UI and ReDoc from this app (pinned files of fastapi-offline
    # under /static-offline-docs), never from a CDN: they work offline and run no third-party
    # script.
    app = FastAPIOffline(
        title="Skin-lesion segmentation API",
        version="1.0.0",
        description=DESCRIPTION,
        redirect_slashes=False,  # a redirect would be built from the client's Host header
    )
    if settings.mmap_threshold_bytes:
        fix_mmap_threshold(settings.mmap_threshold_bytes)
    # Uploads stay in memory (never spooled to a temporary file): the body is capped below.
    MultiPartParser.spool_max_size = max(
        MultiPartParser.spool_max_size, settings.max_upload_bytes + MULTIPART_OVERHEAD
    )
    metrics = Metrics("api", settings.metrics)
    app.state.serving = Serving(
        settings, load_model(settings), MemoryBudget(settings.memory_budget_bytes), metrics
    )
    install_error_handlers(app)
    app.include_router(health.router, tags=["health"])
    app.include_router(segment.router, tags=["segmentation"])
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["*"],
            expose_headers=list(segment.QUALITY_HEADERS),
        )
    app.add_middleware(DocsPolicy)
    app.add_middleware(
        RequestBodyGuard,
        max_bytes=settings.max_upload_bytes + MULTIPART_OVERHEAD,
        timeout_s=settings.body_timeout_s,
    )
    app.add_middleware(RequestLog, metrics=metrics)  # outermost: sees every answer
    return app

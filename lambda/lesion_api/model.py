"""The served model, loaded once per container (by create_app or create_batch, in the Lambda
init phase)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lesion_api.model_store import ModelSourceError, load_model_bytes, sha256_of
from lesion_api.schemas import ModelInfo
from lesion_api.settings import Settings
from segcore.predictor import RuntimeInfo, TFLitePredictor
from segcore.quality import QualityModel

log = logging.getLogger(__name__)


@dataclass
class ModelState:
    """The loaded predictor, its description and its quality estimate, or why there is none."""

    predictor: TFLitePredictor | None
    info: ModelInfo | None
    runtime: RuntimeInfo | None
    error: str | None
    quality: QualityModel | None = None


def load_model(settings: Settings) -> ModelState:
    """Fetch, verify and load the model; failures are kept (and logged), not raised."""
    try:
        data, source = load_model_bytes(settings)
        predictor = TFLitePredictor(
            data,
            runtime=settings.runtime,
            num_threads=settings.num_threads,
            pool_size=settings.interpreters,
        )
    except (ModelSourceError, ImportError, ValueError, RuntimeError) as error:
        log.error("model not loaded: %s", error)
        return ModelState(None, None, None, str(error))
    quality = QualityModel.load()
    info = ModelInfo(
        name=settings.model_name,
        flavour=predictor.flavour,
        sha256=sha256_of(data),
        input_size=predictor.input_size,
        source=source,
    )
    log.info("model loaded: %s %s from %s", info.name, info.flavour, source)
    if quality.model_sha256 != info.sha256:
        log.warning(
            "the quality estimate was fitted for model %s, not this one (%s): refit it with "
            "benchmarks/studies/quality_fit.py",
            quality.model_sha256[:12],
            info.sha256[:12],
        )
    return ModelState(predictor, info, predictor.runtime, None, quality)

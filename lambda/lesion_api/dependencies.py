"""The routes' typed dependencies: what create_app set up once (settings, model, memory budget),
taken through FastAPI's Depends so that a test can swap any of them
(`app.dependency_overrides[get_model] = ...`). They are `async def` so that FastAPI calls them
in the event loop: a plain `def` would cost a trip through the thread pool each, per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from lesion_api.memory_budget import MemoryBudget
from lesion_api.metrics import Metrics
from lesion_api.model import ModelState
from lesion_api.settings import Settings


@dataclass(frozen=True)
class Serving:
    """What every request shares: read-only, or guarded (the budget, the predictor's pool)."""

    settings: Settings
    model: ModelState
    memory_budget: MemoryBudget
    metrics: Metrics


async def get_serving(request: Request) -> Serving:
    serving: Serving = request.app.state.serving
    return serving


async def get_app_settings(serving: Annotated[Serving, Depends(get_serving)]) -> Settings:
    return serving.settings


async def get_model(serving: Annotated[Serving, Depends(get_serving)]) -> ModelState:
    return serving.model


async def get_memory_budget(serving: Annotated[Serving, Depends(get_serving)]) -> MemoryBudget:
    return serving.memory_budget


async def get_metrics(serving: Annotated[Serving, Depends(get_serving)]) -> Metrics:
    return serving.metrics


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ModelDep = Annotated[ModelState, Depends(get_model)]
MemoryBudgetDep = Annotated[MemoryBudget, Depends(get_memory_budget)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]

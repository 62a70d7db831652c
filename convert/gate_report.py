"""The parity gate's report (models/parity.json), typed: written by convert.gate, rendered by
convert.report, read back by the tests and the model card."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

# A largest allowed metric drop: finite and not negative (a NaN would disable the check).
Drop = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _WithoutEmpty(BaseModel):
    """Serialised without the fields that have no value (a refused flavour has no scores)."""

    @model_serializer(mode="wrap")
    def _drop_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}


class SetScore(_WithoutEmpty):
    """Macro-averaged ISIC metrics on one evaluation set."""

    n: int
    dice: float
    jaccard: float
    threshold_jaccard: float
    delta_dice: float | None = Field(None, description="versus the float Keras model")
    delta_threshold_jaccard: float | None = Field(None, description="versus the float model")


class RuntimeCheck(_WithoutEmpty):
    """Whether the file runs in one runtime, how close that runtime's output is to the serving
    runtime's on every gate image, and its own scores on each set (its parity)."""

    loads: bool
    version: str | None = None
    error: str | None = None
    p50_ms_2_threads: float | None = None
    max_abs_diff: float | None = None
    mask_agreement: float | None = None
    sets: dict[str, SetScore] | None = None


class FlavourResult(_WithoutEmpty):
    file: str
    bytes: int
    sha256: str
    passed: bool
    reasons: list[str]
    runtimes: dict[str, RuntimeCheck]
    input_dtype: str | None = None
    sets: dict[str, SetScore] | None = None
    latency_ms: dict[str, dict[str, float]] | None = None


class FloatKeras(BaseModel):
    file: str
    sets: dict[str, SetScore]


class Deployed(BaseModel):
    flavour: str
    file: str
    sha256: str
    input_size: int


class Tolerances(BaseModel):
    """The largest drop against the float model that a flavour may show, per metric, on any set
    in any runtime."""

    dice: Drop
    threshold_jaccard: Drop


class GateReport(BaseModel):
    tolerances: Tolerances
    serving_runtime: str
    float_keras: FloatKeras
    flavours: dict[str, FlavourResult]
    deployed: Deployed | None

    def write(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> GateReport:
        return cls.model_validate_json(path.read_text())

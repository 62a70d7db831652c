"""All serving settings in one place, read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lesion_api.schemas import DEFAULT_MAX_UPLOAD_BYTES
from segcore.paths import DEPLOYED_MODEL

# The baked-in model: /opt/model in the image; the repository's models/ when run from a checkout.
IMAGE_MODEL = Path("/opt/model/unet.tflite")
DEFAULT_MODEL_PATH = DEPLOYED_MODEL if DEPLOYED_MODEL.exists() else IMAGE_MODEL
Runtime = Literal["litert", "tflite-runtime", "tensorflow"]
"""segcore.predictor.RUNTIMES, by name."""
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may be: bytes, pixels, and the largest raster its decode may allocate."""

    max_upload_bytes: int
    max_image_pixels: int
    max_decode_bytes: int


class Settings(BaseSettings):
    """Serving configuration (environment variables, case-insensitive). A value out of range
    or not among a setting's choices (RUNTIME=litrt) stops the process at start-up with
    pydantic's message naming the setting: in a Lambda, INIT fails, not every request."""

    model_config = SettingsConfigDict(env_file=None, protected_namespaces=())

    model_path: Path = Field(DEFAULT_MODEL_PATH, description="baked-in .tflite model")
    model_uri: str | None = Field(None, description="s3://bucket/key; overrides model_path")
    model_sha256: str | None = Field(None, description="expected sha256 of the model file")
    model_cache_dir: Path = Field(Path("/tmp/model-cache"), description="S3 download cache")
    model_name: str = "unet-isic2018"
    log_level: LogLevel = "INFO"
    metrics: bool = Field(False, description="write CloudWatch EMF metrics to stdout (Lambda)")
    runtime: Runtime = "litert"
    # One guarded interpreter using every core is fastest for one request at a time (a Lambda);
    # a pool of one-thread interpreters serves slightly more at 2+ clients on 2 cores
    # (benchmarks/load.json, one pass: 68 / 98 / 108 vs 78 / 94 / 102 requests/s).
    interpreters: int = Field(
        1, ge=1, le=64, description="most inferences at once (one interpreter each, on need)"
    )
    num_threads: int = Field(
        default_factory=lambda: min(os.cpu_count() or 1, 16),
        ge=1,
        le=16,
        description="threads of each interpreter (default: the cores)",
    )
    max_upload_bytes: int = Field(DEFAULT_MAX_UPLOAD_BYTES, ge=1)
    max_image_pixels: int = Field(40_000_000, ge=1, description="decompression-bomb guard")
    max_decode_bytes: int = Field(
        160_000_000,
        ge=1,
        description="largest raster one decode may allocate (40 MP RGB); in a Lambda, at most a "
        "quarter of the function's memory",
    )
    memory_budget_bytes: int = Field(
        300_000_000,
        ge=1,
        description="bytes that concurrent requests may hold for decoding and masks together; "
        "larger images wait for each other",
    )
    mmap_threshold_bytes: int = Field(
        14 * 2**20,
        ge=0,
        description="buffers above this (Pillow's ~16 MB blocks of a 40 MP raster, not a 12 MP "
        "mask) go back to the OS when freed, so a warm process stays flat (glibc); 0 keeps the "
        "C library's default",
    )
    body_timeout_s: float = Field(
        30.0, gt=0, description="a request body must arrive within this many seconds"
    )
    header_timeout_s: float = Field(
        10.0,
        gt=0,
        description="a request's line and headers must arrive within this many seconds of"
        " connecting or of the previous response (python -m lesion_api.serve)",
    )
    cors_origins: list[str] = Field(default_factory=list)
    # Batch (lesion_api.batch): images from S3, no 6 MB payload; the decoder's bounds still hold.
    batch_max_object_bytes: int = Field(
        50_000_000, ge=1, description="larger objects under incoming/ get an error result"
    )

    @property
    def upload_limits(self) -> UploadLimits:
        """The limits of an API upload."""
        return UploadLimits(self.max_upload_bytes, self.max_image_pixels, self.max_decode_bytes)

    @field_validator("model_uri", "model_sha256", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        """The SAM template passes "" when no S3 model is configured."""
        return value or None

    @model_validator(mode="after")
    def _fit_the_function_memory(self) -> Settings:
        """In a Lambda, keep one decode within a quarter of the function's memory."""
        memory_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        if memory_mb.isdigit():
            self.max_decode_bytes = min(self.max_decode_bytes, int(memory_mb) * 2**20 // 4)
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings of this process (read once)."""
    return Settings()

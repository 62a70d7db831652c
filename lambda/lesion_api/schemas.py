"""Response models: the API contract the UI and users rely on (documented in OpenAPI)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from segcore.predictor import RuntimeInfo


class ModelInfo(BaseModel):
    name: str
    flavour: str = Field(description="TFLite flavour: float32, float16, dynamic or int8")
    sha256: str
    input_size: int = Field(description="side of the square model input, in pixels")
    source: str = Field(description="the model's s3:// URI, or the baked-in file's name")


# The 6 MB synchronous Lambda payload, counted after base64 (x4/3) and multipart overhead: the
# API's default upload limit (Settings.max_upload_bytes), and the UI's until /health says more.
DEFAULT_MAX_UPLOAD_BYTES = 4_300_000
# Pixel spacings a dermoscope or microscope can have (0.1 um to 10 mm per pixel); outside them a
# "mm" figure would be meaningless (or, near 0, underflow to 0).
MIN_PIXEL_SPACING_MM = 1e-4
MAX_PIXEL_SPACING_MM = 10.0
UPLOAD_MEDIA_TYPES = ("image/jpeg", "image/png")


class Limits(BaseModel):
    max_upload_bytes: int = Field(description="largest accepted upload, in bytes")
    max_image_pixels: int = Field(description="largest accepted image, in pixels")


class Health(BaseModel):
    status: str = Field(description="'ok', or 'error' when the model could not be loaded")
    model: ModelInfo | None
    runtime: RuntimeInfo | None
    limits: Limits
    error: str | None = Field(None, description="why the model is not available")


class ErrorDetail(BaseModel):
    detail: str = Field(description="what is wrong with the request")


class ImageSize(BaseModel):
    width: int
    height: int


class BoundingBox(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    x: int
    y: int
    width: int
    height: int


class Measurements(BaseModel):
    """segcore.measurements' geometry of the mask."""

    model_config = ConfigDict(from_attributes=True)

    lesion_found: bool
    area_px: int
    area_fraction: float
    bounding_box: BoundingBox | None
    equivalent_diameter_px: float
    perimeter_px: float
    asymmetry: float = Field(description="0 = mirror-symmetric about both principal axes")
    border_irregularity: float = Field(description="perimeter^2 / (4 pi area); 1 = a disc")
    pixel_spacing_mm: float | None
    area_mm2: float | None
    equivalent_diameter_mm: float | None
    perimeter_mm: float | None


class Confidence(BaseModel):
    """Computed on the model's output grid, which covers the whole image
    (segcore.measurements)."""

    model_config = ConfigDict(from_attributes=True)

    mean_certainty: float = Field(description="mean |2p - 1| over the image, 0..1")
    lesion_mean_probability: float | None
    uncertain_fraction: float = Field(description="fraction of pixels with 0.25 < p < 0.75")


class Quality(BaseModel):
    """How far to trust the mask, estimated from the model's own signals (segcore.quality)."""

    model_config = ConfigDict(from_attributes=True)

    predicted_dice: float = Field(
        ge=0, le=1, description="the mask's Dice against an expert's, as estimated, 0..1"
    )
    needs_review: bool = Field(
        description="true when the estimate is below the review threshold (about 1 image in "
        "10 on held-out data): a person should check this mask"
    )
    reasons: list[str] = Field(description="why it needs review, in words (empty when it does not)")


class Timings(BaseModel):
    decode_ms: float
    inference_ms: float
    postprocess_ms: float
    total_ms: float


class Segmentation(BaseModel):
    """A segmentation result; `report()` is the same without the images (for files, tables)."""

    model: ModelInfo
    image: ImageSize
    mask_png_base64: str = Field(
        description="1-bit greyscale PNG at the image's size: 1 (white) = lesion; 8-bit "
        "readers expand it to 0/255"
    )
    probability_png_base64: str | None = Field(
        None, description="lesion probability x 255 as a PNG (when include_probability=true)"
    )
    measurements: Measurements
    confidence: Confidence
    quality: Quality
    timings_ms: Timings

    def report(self) -> dict[str, Any]:
        """JSON-ready, without the mask and probability PNGs."""
        return self.model_dump(mode="json", exclude={"mask_png_base64", "probability_png_base64"})

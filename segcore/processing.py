"""The one preprocessing (image -> model input) and postprocessing (probabilities -> mask)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

THRESHOLD = 0.5
"""A pixel is lesion when its probability is above this (everywhere: serving, scoring, training)."""
MASK_LEVEL = 128
"""A 0..255 mask pixel is lesion when above this level, as the official ISIC scorer reads masks
(the ground truth is 0/255)."""


def mask_lut(threshold: float) -> list[int]:
    """p > threshold on the 8-bit probability levels round(p x 255): a table for Image.point."""
    return [255 if level > threshold * 255 else 0 for level in range(256)]


MASK_LUT = mask_lut(THRESHOLD)


def binary(mask: np.ndarray) -> np.ndarray:
    """The lesion pixels of a 0..255 mask, as booleans."""
    return np.asarray(mask) > MASK_LEVEL


def to_rgb_array(image: Image.Image) -> np.ndarray:
    """Return a decoded PIL image as an 8-bit RGB array (H, W, 3)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit greyscale: scale to 8 bit before the RGB conversion.
        data = np.asarray(image, dtype=np.float64)
        peak = data.max() if data.size else 0.0
        scaled = (data / peak * 255.0) if peak > 255 else data
        image = Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8))
    elif image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def upright_rgb(image: Image.Image) -> np.ndarray:
    """A decoded upload or file as an RGB uint8 array, rotated upright per its EXIF orientation."""
    return to_rgb_array(ImageOps.exif_transpose(image))


def preprocess(image: np.ndarray, size: int) -> np.ndarray:
    """Resize an RGB uint8 image (H, W, 3) to the model input (size, size, 3), uint8 pixels.

    The whole field of view is squashed to a square (no crop, so no lesion part is lost);
    the model itself scales pixels to [0, 1], so quantized models take these bytes as they are.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 array (H, W, 3), got {image.dtype} {image.shape}")
    resized = Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


def resize_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """Resize a 0/255 mask (H, W) to (size, size) as a {0, 1} float32 target."""
    resized = Image.fromarray(mask).resize((size, size), Image.Resampling.BILINEAR)
    return binary(np.asarray(resized)).astype(np.float32)


def probability_image(probabilities: np.ndarray, width: int, height: int) -> Image.Image:
    """The probability map (h, w) as 8-bit p x 255, resized bilinearly to (width, height)."""
    levels = np.round(
        np.asarray(probabilities, dtype=np.float32).reshape(probabilities.shape[:2]) * 255
    )
    small = Image.fromarray(np.clip(levels, 0, 255).astype(np.uint8))
    return small.resize((width, height), Image.Resampling.BILINEAR)


def mask_image(probabilities: Image.Image) -> Image.Image:
    """The 0/255 mask (mode "L") of a `probability_image`: lesion where p > THRESHOLD."""
    return probabilities.point(MASK_LUT)


def postprocess(probabilities: np.ndarray, height: int, width: int) -> np.ndarray:
    """Turn the model's probability map into a 0/255 uint8 mask at the original (height, width)."""
    return np.asarray(mask_image(probability_image(probabilities, width, height)))

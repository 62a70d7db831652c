"""The one preprocessing (image -> model input) and postprocessing (probabilities -> mask)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

THRESHOLD = 0.5


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
    return (np.asarray(resized) > 127).astype(np.float32)


def resize_probabilities(probabilities: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a probability map (h, w) or (h, w, 1) back to (height, width), bilinear."""
    prob = np.asarray(probabilities, dtype=np.float32).reshape(probabilities.shape[:2])
    resized = Image.fromarray(prob).resize((width, height), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def binarize(probabilities: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """0/255 uint8 mask of the pixels whose lesion probability exceeds the threshold."""
    return np.where(probabilities > threshold, 255, 0).astype(np.uint8)


def postprocess(
    probabilities: np.ndarray, height: int, width: int, threshold: float = THRESHOLD
) -> np.ndarray:
    """Turn the model's probability map into a 0/255 uint8 mask at the original (height, width)."""
    return binarize(resize_probabilities(probabilities, height, width), threshold)

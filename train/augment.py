"""Training augmentation in numpy and Pillow, so it runs the same under any Keras backend.

One pair at a time, seeded by the caller's generator: sometimes a synthetic hard case first
(the lesion zoomed out onto skin, made faint, with drawn distractors: `isic.hard_cases`' tools,
with wider ranges and other seeds than the evaluation set), then one joint affine warp of image
and mask (flips, quarter turns, rotation, zoom in/out with aspect jitter and shift), then colour
jitter on the image only, sometimes toward darker skin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from isic import hard_cases
from segcore.processing import MASK_LEVEL

Array = np.ndarray


@dataclass(frozen=True)
class AugmentConfig:
    """How often and how strongly each augmentation applies."""

    hard_fraction: float = 0.35
    """Share of pairs turned into a synthetic hard case before the warp."""
    lesion_fraction: tuple[float, float] = (0.004, 0.12)
    """Lesion share of the field after zooming out (log-uniform); evaluation uses 1-5 %."""
    faint_probability: float = 0.35
    faint_keep: tuple[float, float] = (0.2, 0.8)
    """Contrast kept by a faint lesion; evaluation uses 0.35-0.6."""
    distractor_probability: float = 0.3
    """Chance of each distractor, independently, in a hard case."""
    rotation_degrees: float = 30.0
    zoom_area: tuple[float, float] = (0.4, 1.3)
    """Area of the sampled box relative to the image: < 1 zooms in, > 1 zooms out."""
    aspect: tuple[float, float] = (0.7, 1.45)
    dark_skin_probability: float = 0.15
    dark_skin_gamma: tuple[float, float] = (1.3, 2.2)
    """Gamma range of the darker skin: higher darkens the mid-tones more."""


def synthetic_hard_case(
    image: Array, mask: Array, config: AugmentConfig, rng: np.random.Generator
) -> tuple[Array, Array]:
    """A small, perhaps faint lesion in a wide field with distractors (uint8 image, 0/255 mask)."""
    low, high = np.log(config.lesion_fraction)
    fraction = float(np.exp(rng.uniform(low, high)))
    image, mask = hard_cases.zoom_out(image, mask, fraction, rng)
    if not mask.any():
        return image, mask
    if rng.random() < config.faint_probability:
        image = hard_cases.faint(image, mask, rng, config.faint_keep)
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    for draw_distractor in hard_cases.DRAWN.values():
        if rng.random() < config.distractor_probability:
            draw_distractor(draw, mask, rng)
    image = np.asarray(picture)
    if rng.random() < config.distractor_probability:
        image = hard_cases.vignette(image, rng)
    return image, mask


def _affine(
    height: int, width: int, size: int, config: AugmentConfig, rng: np.random.Generator
) -> tuple[float, ...]:
    """PIL's inverse affine (output pixel -> input pixel) for one random warp to size x size."""
    area = rng.uniform(*config.zoom_area)
    aspect = float(np.exp(rng.uniform(*np.log(config.aspect))))
    box_w, box_h = np.sqrt(area * aspect) * width, np.sqrt(area / aspect) * height
    # The box's centre: shifted by up to half the difference between box and image sides.
    cx = width / 2 + rng.uniform(-1, 1) * abs(width - box_w) / 2
    cy = height / 2 + rng.uniform(-1, 1) * abs(height - box_h) / 2
    angle = np.deg2rad(rng.uniform(-config.rotation_degrees, config.rotation_degrees))
    angle += np.pi / 2 * int(rng.integers(4))
    flip = -1.0 if rng.random() < 0.5 else 1.0
    sx, sy = box_w / size, box_h / size
    cos, sin = np.cos(angle), np.sin(angle)
    # input = centre + R(angle) @ diag(flip * sx, sy) @ (output - size / 2)
    a, b = cos * sx * flip, -sin * sy
    d, e = sin * sx * flip, cos * sy
    c = cx - a * size / 2 - b * size / 2
    f = cy - d * size / 2 - e * size / 2
    return (a, b, c, d, e, f)


def warp(
    image: Array, mask: Array, size: int, coefficients: tuple[float, ...]
) -> tuple[Array, Array]:
    """The same affine warp of image (bilinear, black outside) and mask (re-binarised)."""
    out = (size, size)
    warped = Image.fromarray(image).transform(
        out, Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR, fillcolor=(0, 0, 0)
    )
    warped_mask = Image.fromarray(mask).transform(
        out, Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR, fillcolor=0
    )
    return np.asarray(warped), np.asarray(warped_mask) > MASK_LEVEL


def colour_jitter(image: Array, config: AugmentConfig, rng: np.random.Generator) -> Array:
    """Brightness, contrast, saturation and hue jitter, sometimes darker skin; float 0..255."""
    hsv = np.asarray(Image.fromarray(image).convert("HSV")).copy()
    hsv[..., 0] += np.uint8(round(rng.uniform(-0.04, 0.04) * 255) % 256)
    x = np.asarray(Image.fromarray(hsv, "HSV").convert("RGB"), np.float32)
    grey = x.mean(axis=2, keepdims=True)
    x = grey + (x - grey) * rng.uniform(0.75, 1.3)
    x = x.mean() + (x - x.mean()) * rng.uniform(0.8, 1.25)
    x = x + rng.uniform(-0.1, 0.1) * 255
    if rng.random() < config.dark_skin_probability:
        # Darker, warmer skin: a gamma that darkens mid-tones and a brown tint.
        x = 255 * (np.clip(x, 0, 255) / 255) ** rng.uniform(*config.dark_skin_gamma)
        x = x * np.array([1.0, rng.uniform(0.75, 0.9), rng.uniform(0.6, 0.8)], np.float32)
    jittered: Array = np.clip(x, 0, 255)
    return jittered


def augment_pair(
    image: Array, mask: Array, size: int, config: AugmentConfig, rng: np.random.Generator
) -> tuple[Array, Array]:
    """One augmented pair at size x size: float32 pixels 0..255 (H, W, 3), float32 {0, 1} mask."""
    if rng.random() < config.hard_fraction:
        image, mask = synthetic_hard_case(image, mask, config, rng)
    height, width = mask.shape
    coefficients = _affine(height, width, size, config, rng)
    warped, warped_mask = warp(image, mask, size, coefficients)
    return colour_jitter(warped, config, rng), warped_mask[..., None].astype(np.float32)

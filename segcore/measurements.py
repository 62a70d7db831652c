"""Lesion measurements from a binary mask and confidence figures from the probability map: one
computation, with the field names the API's result uses (lesion_api.schemas validates these)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops

from segcore.processing import THRESHOLD


@dataclass(frozen=True)
class BoundingBox:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Measurements:
    """Geometry of the predicted mask at the image's size (mm where a pixel spacing is given)."""

    lesion_found: bool
    area_px: int
    area_fraction: float
    bounding_box: BoundingBox | None
    equivalent_diameter_px: float
    perimeter_px: float
    asymmetry: float
    border_irregularity: float
    pixel_spacing_mm: float | None
    area_mm2: float | None
    equivalent_diameter_mm: float | None
    perimeter_mm: float | None


@dataclass(frozen=True)
class Confidence:
    """How sure the model is, on its output grid (which covers the whole image)."""

    mean_certainty: float
    lesion_mean_probability: float | None
    uncertain_fraction: float


UNCERTAIN = (0.25, 0.75)
"""A grid pixel is uncertain when its probability is strictly between these."""
STRIP_ROWS = 256
ASYMMETRY_MAX_SIDE = 256


def _lesion_pixels(mask: Image.Image) -> int:
    """Non-zero pixels of a mode "L" image (counted by Pillow, no array copy)."""
    width, height = mask.size
    return width * height - mask.histogram()[0]


Box = tuple[int, int, int, int]
"""(left, top, right, bottom) of the mask, as Image.getbbox gives it."""


def _strips(box: Box, rows: int) -> list[Box]:
    left, top, right, bottom = box
    return [(left, y, right, min(y + rows, bottom)) for y in range(top, bottom, rows)]


def _area(mask: Image.Image, box: Box, rows: int) -> int:
    """Lesion pixels in the box, counted in strips of `rows` rows."""
    return sum(_lesion_pixels(mask.crop(strip)) for strip in _strips(box, rows))


def _perimeter(mask: Image.Image, box: Box, rows: int) -> float:
    """Boundary length in pixels of the lesion in the box, beyond which all is background (as
    beyond the image's border): 4-neighbour transitions, corrected for the grid (x pi/4).
    Counted by Pillow in strips of `rows` rows."""
    left, top, right, bottom = box
    edges = [(left, top, left + 1, bottom), (right - 1, top, right, bottom)]  # left, right
    edges += [(left, top, right, top + 1), (left, bottom - 1, right, bottom)]  # top, bottom
    transitions = sum(_lesion_pixels(mask.crop(edge)) for edge in edges)
    for _, y0, _, y1 in _strips(box, rows):
        if right - left > 1:  # between columns x and x + 1, rows y0..y1
            transitions += _lesion_pixels(
                ImageChops.difference(
                    mask.crop((left + 1, y0, right, y1)), mask.crop((left, y0, right - 1, y1))
                )
            )
        end = min(y1 + 1, bottom)  # between rows y and y + 1, for y0 <= y < end - 1
        if end - y0 > 1:
            transitions += _lesion_pixels(
                ImageChops.difference(
                    mask.crop((left, y0 + 1, right, end)), mask.crop((left, y0, right, end - 1))
                )
            )
    return transitions * math.pi / 4


def _subsampled(mask: Image.Image) -> np.ndarray:
    """The mask at most ASYMMETRY_MAX_SIDE px a side, as booleans (asymmetry is scale-free)."""
    step = max(1, -(-max(mask.size) // ASYMMETRY_MAX_SIDE))
    width, height = mask.size
    small = mask.resize((-(-width // step), -(-height // step)), Image.Resampling.NEAREST)
    return np.asarray(small) > 0


def _asymmetry(mask: np.ndarray) -> float:
    """Mean non-overlap of the lesion with its mirror images about its two principal axes.

    0 for a shape symmetric about both axes (an ellipse); grows towards 1 as it gets lopsided.
    """
    ys, xs = np.nonzero(mask)
    if len(xs) < 3:
        return 0.0
    coords = np.stack([xs, ys]).astype(np.float64)
    centre = coords.mean(axis=1, keepdims=True)
    centred = coords - centre
    _, vectors = np.linalg.eigh(np.cov(centred))
    local = vectors.T @ centred
    scores = []
    for axis in (0, 1):
        mirrored = local.copy()
        mirrored[axis] *= -1
        back = np.rint(vectors @ mirrored + centre).astype(np.int64)
        inside = (
            (back[0] >= 0) & (back[0] < mask.shape[1]) & (back[1] >= 0) & (back[1] < mask.shape[0])
        )
        overlap = np.count_nonzero(mask[back[1][inside], back[0][inside]])
        scores.append(1.0 - overlap / len(xs))
    return float(np.mean(scores))


def measure(
    mask: Image.Image, pixel_spacing_mm: float | None = None, strip_rows: int = STRIP_ROWS
) -> Measurements:
    """Area, bounding box, equivalent diameter, perimeter, asymmetry and border irregularity of
    a 0/255 mask (mode "L") at the image's size, read in strips of `strip_rows` rows.

    Border irregularity is the compactness perimeter^2 / (4 pi area): 1 for a disc, larger for
    ragged borders. With a pixel spacing, lengths and areas are also given in mm.
    """
    if mask.mode != "L":
        raise ValueError(f"expected a 0/255 mode 'L' mask, got mode {mask.mode}")
    width, height = mask.size
    box = mask.getbbox()  # None exactly when there is no lesion pixel
    if box is None:
        return Measurements(
            lesion_found=False,
            area_px=0,
            area_fraction=0.0,
            bounding_box=None,
            equivalent_diameter_px=0.0,
            perimeter_px=0.0,
            asymmetry=0.0,
            border_irregularity=0.0,
            pixel_spacing_mm=pixel_spacing_mm,
            area_mm2=None,
            equivalent_diameter_mm=None,
            perimeter_mm=None,
        )
    left, top, right, bottom = box
    # Every lesion pixel lies in the box: area and perimeter are counted there alone (for a
    # small lesion, a fraction of the image's pixels).
    area = _area(mask, box, strip_rows)
    diameter = math.sqrt(4 * area / math.pi)
    perimeter = float(_perimeter(mask, box, strip_rows))
    spacing = pixel_spacing_mm or None
    return Measurements(
        lesion_found=True,
        area_px=area,
        area_fraction=area / (height * width),
        bounding_box=BoundingBox(x=left, y=top, width=right - left, height=bottom - top),
        equivalent_diameter_px=diameter,
        perimeter_px=perimeter,
        asymmetry=_asymmetry(_subsampled(mask)),
        border_irregularity=perimeter**2 / (4 * math.pi * area),
        pixel_spacing_mm=pixel_spacing_mm,
        area_mm2=area * spacing**2 if spacing else None,
        equivalent_diameter_mm=diameter * spacing if spacing else None,
        perimeter_mm=perimeter * spacing if spacing else None,
    )


def confidence(probabilities: np.ndarray) -> Confidence:
    """How sure the model is, on its own output grid (which covers the whole image): mean
    certainty |2p - 1|, mean probability of the lesion (p > THRESHOLD), and the fraction of
    UNCERTAIN pixels."""
    lesion = probabilities > THRESHOLD
    low, high = UNCERTAIN
    return Confidence(
        mean_certainty=float(np.mean(np.abs(2 * probabilities - 1))),
        lesion_mean_probability=float(probabilities[lesion].mean()) if lesion.any() else None,
        uncertain_fraction=float(np.mean((probabilities > low) & (probabilities < high))),
    )

"""Lesion measurements from a binary mask and confidence figures from the probability map."""

from __future__ import annotations

import math

import numpy as np


def _perimeter(mask: np.ndarray) -> float:
    """Boundary length in pixels: 4-neighbour transitions, corrected for the grid (x pi/4)."""
    padded = np.pad(mask, 1)
    transitions = np.count_nonzero(padded[1:, :] != padded[:-1, :]) + np.count_nonzero(
        padded[:, 1:] != padded[:, :-1]
    )
    return transitions * math.pi / 4


ASYMMETRY_MAX_SIDE = 256


def _asymmetry(mask: np.ndarray) -> float:
    """Mean non-overlap of the lesion with its mirror images about its two principal axes.

    0 for a shape symmetric about both axes (an ellipse); grows towards 1 as it gets lopsided.
    Scale-free, so large masks are subsampled to at most 256 px a side first (speed).
    """
    step = max(1, -(-max(mask.shape) // ASYMMETRY_MAX_SIDE))
    mask = mask[::step, ::step]
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


def measure(mask: np.ndarray, pixel_spacing_mm: float | None = None) -> dict:
    """Area, bounding box, equivalent diameter, perimeter, asymmetry and border irregularity of
    a boolean (or 0/255) mask at the image's size.

    Border irregularity is the compactness perimeter^2 / (4 pi area): 1 for a disc, larger for
    ragged borders. With a pixel spacing, lengths and areas are also given in mm.
    """
    lesion = mask.astype(bool, copy=False)
    area = int(np.count_nonzero(lesion))
    height, width = lesion.shape
    result: dict = {
        "lesion_found": area > 0,
        "area_px": area,
        "area_fraction": area / (height * width),
        "bounding_box": None,
        "equivalent_diameter_px": math.sqrt(4 * area / math.pi),
        "perimeter_px": 0.0,
        "asymmetry": 0.0,
        "border_irregularity": 0.0,
        "pixel_spacing_mm": pixel_spacing_mm,
        "area_mm2": None,
        "equivalent_diameter_mm": None,
        "perimeter_mm": None,
    }
    if area == 0:
        return result
    rows, cols = np.nonzero(lesion.any(axis=1))[0], np.nonzero(lesion.any(axis=0))[0]
    result["bounding_box"] = {
        "x": int(cols[0]),
        "y": int(rows[0]),
        "width": int(cols[-1] - cols[0] + 1),
        "height": int(rows[-1] - rows[0] + 1),
    }
    perimeter = _perimeter(lesion)
    result["perimeter_px"] = float(perimeter)
    result["asymmetry"] = _asymmetry(lesion)
    result["border_irregularity"] = float(perimeter**2 / (4 * math.pi * area))
    if pixel_spacing_mm:
        result["area_mm2"] = area * pixel_spacing_mm**2
        result["equivalent_diameter_mm"] = result["equivalent_diameter_px"] * pixel_spacing_mm
        result["perimeter_mm"] = float(perimeter * pixel_spacing_mm)
    return result


def confidence(probabilities: np.ndarray, mask: np.ndarray) -> dict:
    """How sure the model is, on its own output grid (which covers the whole image): mean
    certainty |2p - 1|, mean lesion probability, and the fraction with 0.25 < p < 0.75."""
    lesion = mask.astype(bool, copy=False)
    return {
        "mean_certainty": float(np.mean(np.abs(2 * probabilities - 1))),
        "lesion_mean_probability": float(probabilities[lesion].mean()) if lesion.any() else None,
        "uncertain_fraction": float(np.mean((probabilities > 0.25) & (probabilities < 0.75))),
    }

"""Outline overlays of masks on an image (numpy only)."""

from __future__ import annotations

import numpy as np

from segcore.processing import binary

TRUTH_COLOUR = (0, 255, 0)
PREDICTION_COLOUR = (255, 0, 255)


def overlay(
    image: np.ndarray, prediction: np.ndarray, truth: np.ndarray | None = None
) -> np.ndarray:
    """RGB image with the predicted outline in magenta and, if given, the truth's in green."""
    out = image.copy()
    masks = [(prediction, PREDICTION_COLOUR)] + (
        [(truth, TRUTH_COLOUR)] if truth is not None else []
    )
    for mask, colour in masks:
        lesion = binary(mask)
        out[lesion & ~_erode(lesion, max(1, min(lesion.shape) // 150))] = colour
    return out


def _erode(mask: np.ndarray, radius: int) -> np.ndarray:
    eroded = mask.copy()
    for _ in range(radius):
        shifted = eroded.copy()
        shifted[1:] &= eroded[:-1]
        shifted[:-1] &= eroded[1:]
        shifted[:, 1:] &= eroded[:, :-1]
        shifted[:, :-1] &= eroded[:, 1:]
        eroded = shifted
    return eroded

"""Test-time flips: the model's probabilities averaged over the input and its mirror images
(each mapped back), part of every prediction we serve and measure.

Measured on held-out data (`benchmarks/postprocess_study.py`, model card): averaging the four
mirrors raised Dice on every evaluation set; largest-component and hole-filling clean-ups did not
help on all sets, so the served path has none.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

TEST_TIME_FLIPS = 4
"""How many mirror images each prediction averages: 1 (none), 2 (+ left-right) or 4 (+ up-down
and both)."""
MIRRORS: tuple[tuple[int, ...], ...] = ((), (1,), (0,), (0, 1))
"""The mirrors in order, as axes of one (S, S, ...) image to flip: none, left-right, up-down,
both."""


def mirrored_maps(
    predict: Callable[[np.ndarray], np.ndarray], batch: np.ndarray, flips: int = TEST_TIME_FLIPS
) -> list[np.ndarray]:
    """`predict` (a batch (N, S, S, 3) -> maps (N, S, S)) of each of the first `flips` mirrors
    of the batch, each map flipped back onto the input's grid."""
    if flips not in (1, 2, 4):
        raise ValueError(f"flips must be 1, 2 or 4, got {flips}")
    maps = []
    for axes in MIRRORS[:flips]:
        image_axes = tuple(a + 1 for a in axes)
        mirrored = predict(np.flip(batch, image_axes) if axes else batch)
        maps.append(np.flip(mirrored, image_axes) if axes else mirrored)
    return maps


def flip_averaged(
    predict: Callable[[np.ndarray], np.ndarray], batch: np.ndarray, flips: int = TEST_TIME_FLIPS
) -> np.ndarray:
    """The mean of `mirrored_maps`: the prediction we serve and measure."""
    total = np.zeros(batch.shape[:3], np.float32)
    for probabilities in mirrored_maps(predict, batch, flips):
        total += probabilities
    result: np.ndarray = total / flips
    return result

"""Test-time flips: the model's probabilities averaged over the input and its mirror images
(each mapped back), part of every prediction we serve and measure. Eight is all the square's
symmetries: the four mirrors, and the four again after swapping rows and columns (a transpose;
with the mirrors, the quarter turns).

Measured on held-out data (`benchmarks/postprocess_study.py`, model card): averaging mirrors
raised Dice on every evaluation set for the models trained alone; largest-component and
hole-filling clean-ups did not help on all sets, so the served path has none. Served since
2026-12-02: one view, no mirror. The model is a student distilled from the eight-pass ensemble
served before (four mirrors at two input scales), and on the pass ladder
(`benchmarks/one_pass_ladder.json`, criteria written first in
`benchmarks/studies/one_pass_criteria.md`) its single pass kept every evaluation set within
0.002 Dice of those eight passes: the fewest passes that did. More mirrors go through the model
in one call (segcore.predictor).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

TEST_TIME_FLIPS = 1
"""How many mirror images each prediction averages: 1 (none), 2 (+ left-right), 4 (+ up-down
and both) or 8 (the four of the transposed image too)."""
MIRRORS: tuple[tuple[int, ...], ...] = ((), (1,), (0,), (0, 1))
"""The mirrors in order, as axes of one (S, S, ...) image to flip: none, left-right, up-down,
both."""
SYMMETRIES: tuple[tuple[bool, tuple[int, ...]], ...] = tuple(
    (transpose, axes) for transpose in (False, True) for axes in MIRRORS
)
"""(transpose first?, mirror axes) of each view, in the order `flips` takes them."""


def mirrored_maps(
    predict: Callable[[np.ndarray], np.ndarray], batch: np.ndarray, flips: int = TEST_TIME_FLIPS
) -> list[np.ndarray]:
    """`predict` (a batch (N, S, S, 3) -> maps (N, S, S)) of each of the first `flips` views
    of the batch (`SYMMETRIES`), each map mapped back onto the input's grid."""
    if flips not in (1, 2, 4, 8):
        raise ValueError(f"flips must be 1, 2, 4 or 8, got {flips}")
    return [_back(predict(_view(batch, *view)), *view) for view in SYMMETRIES[:flips]]


def _view(batch: np.ndarray, transpose: bool, axes: tuple[int, ...]) -> np.ndarray:
    """The batch's images transposed (if asked), then mirrored along `axes`."""
    images = np.swapaxes(batch, 1, 2) if transpose else batch
    return np.flip(images, tuple(a + 1 for a in axes)) if axes else images


def _back(maps: np.ndarray, transpose: bool, axes: tuple[int, ...]) -> np.ndarray:
    """Maps of a `_view` put back on the input's grid (its steps undone in reverse)."""
    unflipped = np.flip(maps, tuple(a + 1 for a in axes)) if axes else maps
    return np.swapaxes(unflipped, 1, 2) if transpose else unflipped


def flip_averaged(
    predict: Callable[[np.ndarray], np.ndarray], batch: np.ndarray, flips: int = TEST_TIME_FLIPS
) -> np.ndarray:
    """The mean of `mirrored_maps`: the prediction we serve and measure."""
    return averaged(mirrored_maps(predict, batch, flips))


def averaged(maps: list[np.ndarray]) -> np.ndarray:
    """The mean of mapped-back maps, summed in their order (the one served arithmetic)."""
    total = np.zeros(maps[0].shape, np.float32)
    for probabilities in maps:
        total += probabilities
    result: np.ndarray = total / len(maps)
    return result


def views_of(image: np.ndarray, flips: int = TEST_TIME_FLIPS) -> np.ndarray:
    """The first `flips` views (`SYMMETRIES`) of one (S, S, 3) image, as one batch (flips, S, S,
    3): what a model call takes to compute all of an image's mirrors at once."""
    if flips not in (1, 2, 4, 8):
        raise ValueError(f"flips must be 1, 2, 4 or 8, got {flips}")
    return np.stack([_view(image[None], *view)[0] for view in SYMMETRIES[:flips]])


def maps_back(maps: np.ndarray) -> list[np.ndarray]:
    """The maps (flips, S, S) of `views_of`'s batch, each put back on the image's grid (1, S, S)."""
    return [_back(m[None], *view) for m, view in zip(maps, SYMMETRIES, strict=False)]

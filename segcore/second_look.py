"""A second look at a lesion that is small in the field: the first, whole-field map finds it;
a square of the decoded image around it (with a margin) goes through the model at its input
size, and the crop's map is combined with the first map inside the crop. Outside the crop the
first map is kept as it is, so nothing the first pass found there is lost.

The trigger, margin and combination served were chosen on held-out data under criteria
written first (`benchmarks/studies/second_look_criteria.md`, `benchmarks/second_look.json`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image

from segcore.components import components
from segcore.processing import THRESHOLD, preprocess, probability_image

FAINT = 0.25
"""Where the first map has no pixel above THRESHOLD, its pixels above this are the lesion."""
MIN_SIDE = 1 / 8
"""The crop's side is at least this share of the image's shorter side."""

Combination = Literal["replace", "mean"]


@dataclass(frozen=True)
class Policy:
    """When to look again and how: a lesion below `trigger` of the field gets a crop of side
    its box's longer side x (1 + 2 `margin`), combined by `combination`."""

    trigger: float
    margin: float
    combination: Combination


@dataclass(frozen=True)
class Box:
    """A rectangle of pixels: left, top inclusive; right, bottom exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


@dataclass(frozen=True)
class Focus:
    """The first map's main lesion: its box as fractions of the field (left, top, right,
    bottom) and its share of the field."""

    left: float
    top: float
    right: float
    bottom: float
    share: float


def lesion_of(probabilities: np.ndarray) -> np.ndarray:
    """The first map's lesion pixels: above THRESHOLD, or above FAINT where none is."""
    lesion = probabilities > THRESHOLD
    return lesion if lesion.any() else probabilities > FAINT


def focus(probabilities: np.ndarray) -> Focus | None:
    """The main lesion of a first map (S, S): the component with the most probability mass."""
    lesion = lesion_of(probabilities)
    if not lesion.any():
        return None
    labels, _ = components(lesion)
    mass = np.bincount(labels[lesion], weights=probabilities[lesion])
    main = labels == int(np.argmax(mass))
    rows = np.flatnonzero(main.any(axis=1))
    cols = np.flatnonzero(main.any(axis=0))
    size_y, size_x = probabilities.shape
    return Focus(
        left=cols[0] / size_x,
        top=rows[0] / size_y,
        right=(cols[-1] + 1) / size_x,
        bottom=(rows[-1] + 1) / size_y,
        share=float(main.mean()),
    )


def _span(centre: float, side: int, limit: int) -> tuple[int, int]:
    """An interval of `side` pixels centred on `centre`, shifted to lie inside 0..limit."""
    side = min(side, limit)
    start = round(centre - side / 2)
    start = min(max(start, 0), limit - side)
    return start, start + side


def crop_box(found: Focus, width: int, height: int, margin: float) -> Box:
    """The square (where it fits) of a width x height image around a focus, with the margin."""
    box_w = (found.right - found.left) * width
    box_h = (found.bottom - found.top) * height
    side = max(max(box_w, box_h) * (1 + 2 * margin), MIN_SIDE * min(width, height))
    side_px = max(2, round(side))
    left, right = _span((found.left + found.right) / 2 * width, side_px, width)
    top, bottom = _span((found.top + found.bottom) / 2 * height, side_px, height)
    return Box(left, top, right, bottom)


def scaled(box: Box, from_size: tuple[int, int], to_size: tuple[int, int]) -> Box:
    """A box of a (width, height) image mapped onto the same field at another size."""
    sx = to_size[0] / from_size[0]
    sy = to_size[1] / from_size[1]
    return Box(
        round(box.left * sx),
        round(box.top * sy),
        max(round(box.right * sx), round(box.left * sx) + 1),
        max(round(box.bottom * sy), round(box.top * sy) + 1),
    )


@dataclass(frozen=True)
class Look:
    """A second look: the crop (in decoded pixels), the model's map (S, S) of it, and the
    share of the field the first map's lesion had."""

    box: Box
    probabilities: np.ndarray
    share: float


def second_look(
    predict: Callable[[np.ndarray], np.ndarray],
    pixels: np.ndarray,
    first: np.ndarray,
    policy: Policy,
) -> Look | None:
    """Look again at a small lesion of the first map (S, S) of decoded pixels (h, w, 3) with
    `predict` (model inputs (N, S, S, 3) -> maps (N, S, S)); None when the policy does not
    trigger."""
    found = focus(first)
    if found is None or found.share >= policy.trigger:
        return None
    height, width = pixels.shape[:2]
    box = crop_box(found, width, height, policy.margin)
    size = first.shape[0]
    crop = preprocess(
        np.ascontiguousarray(pixels[box.top : box.bottom, box.left : box.right]), size
    )
    return Look(box, predict(crop[None])[0], found.share)


def combined_image(
    first: np.ndarray,
    look: Look | None,
    decoded_size: tuple[int, int],
    size: tuple[int, int],
    combination: Combination,
) -> Image.Image:
    """The probability image (mode "L", `size` = (width, height)) of the first map with a
    second look's map combined inside its crop (the crop given on the decoded image)."""
    full = probability_image(first, *size)
    if look is None:
        return full
    box = scaled(look.box, decoded_size, size)
    region = (box.left, box.top, box.right, box.bottom)
    crop = probability_image(look.probabilities, box.width, box.height)
    if combination == "mean":
        crop = Image.blend(full.crop(region), crop, 0.5)
    full.paste(crop, region)
    return full

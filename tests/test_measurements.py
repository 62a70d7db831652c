"""Lesion measurements, read from the mask in strips, against whole-array references."""

from __future__ import annotations

import math
from dataclasses import asdict, fields

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lesion_api import schemas
from segcore import measurements
from segcore.measurements import measure


def reference_perimeter(mask: np.ndarray) -> float:
    padded = np.pad(mask, 1)
    transitions = np.count_nonzero(padded[1:] != padded[:-1]) + np.count_nonzero(
        padded[:, 1:] != padded[:, :-1]
    )
    return transitions * math.pi / 4


def blobs(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = Image.new("L", (width, height))
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x0, y0 = rng.integers(-20, width), rng.integers(-20, height)
        draw.ellipse([x0, y0, x0 + rng.integers(5, width), y0 + rng.integers(5, height)], fill=255)
    return image


@pytest.mark.parametrize(("width", "height", "seed"), [(257, 190, 0), (64, 300, 1), (1000, 37, 2)])
@pytest.mark.parametrize("strip_rows", [1, 7, 64, 4096])
def test_strips_give_the_whole_array_figures(width, height, seed, strip_rows) -> None:
    image = blobs(width, height, seed)
    mask = np.asarray(image, dtype=bool)
    result = measure(image, 0.05, strip_rows=strip_rows)
    whole = measure(image, 0.05, strip_rows=height)
    assert result == whole
    assert result.area_px == np.count_nonzero(mask)
    assert result.perimeter_px == pytest.approx(reference_perimeter(mask))
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    assert result.bounding_box is not None
    assert asdict(result.bounding_box) == {
        "x": cols[0],
        "y": rows[0],
        "width": cols[-1] - cols[0] + 1,
        "height": rows[-1] - rows[0] + 1,
    }
    assert result.area_mm2 == pytest.approx(result.area_px * 0.05**2)


def test_a_disc_is_round_and_symmetric() -> None:
    image = Image.new("L", (400, 400))
    ImageDraw.Draw(image).ellipse([50, 50, 349, 349], fill=255)
    result = measure(image)
    assert result.border_irregularity == pytest.approx(1.0, abs=0.15)
    assert result.asymmetry < 0.02


def test_an_empty_mask_has_no_lesion() -> None:
    result = measure(Image.new("L", (50, 40)))
    assert not result.lesion_found and result.bounding_box is None
    assert result.area_px == 0 and result.perimeter_px == 0.0


def test_the_api_models_have_segcores_fields() -> None:
    """lesion_api.schemas validates segcore.measurements' results: the same names, no more."""
    for name in ("BoundingBox", "Measurements", "Confidence"):
        ours = [f.name for f in fields(getattr(measurements, name))]
        assert list(getattr(schemas, name).model_fields) == ours, name

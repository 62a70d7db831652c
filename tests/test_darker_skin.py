"""The darker-skin stress set: melanin absorbs in linear light, blue most; masks are kept; the
skin darkens level by level; the set is deterministic; the score reports each level."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from isic import darker_skin
from isic.darker_skin import BLUE_DENSITIES, MELANIN_ABSORPTION, darken, make_set
from isic.data import find_samples, load_pair

FIXTURES = Path(__file__).parent / "fixtures"
FULLVIEW = FIXTURES / "isic2018_fullview"


def test_srgb_follows_the_standard_curve_and_round_trips() -> None:
    values = np.arange(256, dtype=np.uint8)
    assert np.array_equal(darker_skin.to_srgb(darker_skin.to_linear(values)), values)
    # IEC 61966-2-1: a linear segment near black, a 2.4 power with offset above.
    linear = darker_skin.to_linear(np.array([10, 128, 255]))
    np.testing.assert_allclose(linear, [10 / 255 / 12.92, 0.21586, 1.0], rtol=1e-4)
    assert darker_skin.to_srgb(np.array([0.5]))[0] == 188


def test_skin_brightness_of_a_lesion_filling_the_image() -> None:
    image = np.full((4, 4, 3), 100, np.uint8)
    assert darker_skin.skin_brightness(image, np.full((4, 4), 255, np.uint8)) == pytest.approx(100)


def test_melanin_attenuates_linear_light_blue_most() -> None:
    grey = np.full((4, 4, 3), 200, np.uint8)
    assert np.array_equal(darken(grey, 0.0), grey)
    previous = grey
    for density in BLUE_DENSITIES[1:]:
        darker = darken(grey, density)
        assert (darker <= previous).all() and (darker < previous).any()
        previous = darker
        red, _, blue = darker_skin.to_linear(darker[0, 0])
        # Beer-Lambert in linear light, melanin's absorption ~ wavelength^-3.33 (red 650 nm,
        # blue 450 nm): blue/red falls by exp(-d * (1 - (650 / 450) ** -3.33)).
        expected = np.exp(-density * (1 - (650 / 450) ** -3.33))
        assert blue / red == pytest.approx(expected, rel=0.05)


def test_the_absorption_follows_melanin_spectrum() -> None:
    wavelengths = np.array([650, 550, 450])
    np.testing.assert_allclose(MELANIN_ABSORPTION, (wavelengths / 450) ** -3.33, atol=0.005)


def test_the_set_keeps_masks_and_darkens_the_skin_level_by_level(tmp_path: Path) -> None:
    samples = find_samples(FULLVIEW)
    cases = make_set(samples, tmp_path / "a")
    made = find_samples(tmp_path / "a")
    assert len(made) == len(cases) == len(samples) * len(BLUE_DENSITIES)
    for index, sample in enumerate(samples):
        image, mask = load_pair(sample)
        ids = [darker_skin.case_id(level, index) for level in range(len(BLUE_DENSITIES))]
        pairs = [load_pair(s) for s in made if s.image_id in ids]
        assert all(np.array_equal(level_mask, mask) for _, level_mask in pairs)
        assert np.abs(pairs[0][0].astype(int) - image).mean() < 3  # level 0: re-encoded only
        assert {cases[i]["source_id"] for i in ids} == {sample.image_id}
        assert [cases[i]["blue_density"] for i in ids] == list(BLUE_DENSITIES)
        brightness = [cases[i]["skin_luma"] for i in ids]
        assert brightness == sorted(brightness, reverse=True) and len(set(brightness)) == len(ids)
    make_set(samples, tmp_path / "b")
    for a, b in zip(made, find_samples(tmp_path / "b"), strict=True):
        assert a.image_path.read_bytes() == b.image_path.read_bytes()


def test_the_score_reports_each_level(tmp_path: Path) -> None:
    make_set(find_samples(FULLVIEW), tmp_path / "cases")
    model = FIXTURES / "models" / "unet_tiny_int8.tflite"
    out = tmp_path / "eval"
    args = ["score", "--cases", str(tmp_path / "cases"), "--model", str(model), "--out", str(out)]
    assert darker_skin.main(args) == 0
    report = json.loads((out / "darker_skin.json").read_text())
    with (out / "per_image.csv").open() as f:
        dice = {row["image_id"]: float(row["dice"]) for row in csv.DictReader(f)}
    assert list(report["levels"]) == [str(level) for level in range(len(BLUE_DENSITIES))]
    for level, figures in report["levels"].items():
        at_level = [value for image_id, value in dice.items() if image_id[6] == level]
        assert figures["n"] == len(at_level) == 6
        assert figures["dice"] == pytest.approx(np.mean(at_level))
    assert report["all"]["n"] == len(dice)

"""The hard-cases generator: deterministic for a seed, the mask stays on the lesion, the lesion
shrinks into its size bin, and the set reads back in the official layout."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from isic.data import find_samples, load_pair
from isic.hard_cases import (
    DISTRACTORS,
    SIZE_BINS,
    by_group,
    fabric,
    main,
    make_case,
    make_set,
    read_cases,
    zoom_out,
)

FULLVIEW = Path(__file__).parent / "fixtures" / "isic2018_fullview"


def red_disc(width: int = 320, height: int = 240) -> tuple[np.ndarray, np.ndarray]:
    """A pure red lesion on grey skin, filling much of the frame, and its mask."""
    image = Image.new("RGB", (width, height), (170, 150, 140))
    mask = Image.new("L", (width, height))
    box = [60, 40, 260, 200]
    ImageDraw.Draw(image).ellipse(box, fill=(220, 10, 10))
    ImageDraw.Draw(mask).ellipse(box, fill=255)
    return np.asarray(image), np.asarray(mask)


def test_the_mask_stays_on_the_lesion_and_shrinks_into_its_bin() -> None:
    image, mask = red_disc()
    for fraction in (0.01, 0.03, 0.05):
        small, small_mask = zoom_out(image, mask, fraction, np.random.default_rng(1))
        red = (small[..., 0] > 150) & (small[..., 1] < 80)
        lesion = small_mask > 0
        iou = (red & lesion).sum() / (red | lesion).sum()
        assert iou > 0.8, f"image and mask drifted apart at {fraction}: IoU {iou:.2f}"
        assert 0.7 * fraction < lesion.mean() < 1.3 * fraction


def test_a_case_is_the_same_for_the_same_seed() -> None:
    image, mask = load_pair(find_samples(FULLVIEW, "training")[0])
    first = make_case(image, mask, 7, seed=11)
    again = make_case(image, mask, 7, seed=11)
    other = make_case(image, mask, 7, seed=12)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    assert first[2:] == again[2:]
    assert not np.array_equal(first[0], other[0])


def test_the_set_reads_back_and_covers_every_bin_and_distractor(tmp_path: Path) -> None:
    samples = find_samples(FULLVIEW, "training")
    cases = make_set(samples * 10, tmp_path, seed=3)  # enough cases to cycle through everything
    assert [c.image_id for c in read_cases(tmp_path)] == [c.image_id for c in cases]
    generated = find_samples(tmp_path, "training")
    assert len(generated) == len(cases)
    image, mask = load_pair(generated[0])
    assert image.shape[:2] == mask.shape
    assert {c.size_bin for c in cases} == {f"{lo:.1%}-{hi:.1%}" for lo, hi in SIZE_BINS}
    assert {d for c in cases for d in c.distractors} == set(DISTRACTORS)
    assert {c.faint for c in cases} == {True, False}
    groups = by_group(cases, {c.image_id: 0.5 for c in cases})
    assert groups["faint"]["n"] + groups["not faint"]["n"] == len(cases)
    assert all(g["dice"] == 0.5 for g in groups.values())


def test_the_score_reports_the_groups(tmp_path: Path) -> None:
    cases = make_set(find_samples(FULLVIEW, "training"), tmp_path / "cases")
    model = FULLVIEW.parent / "models" / "unet_tiny_int8.tflite"
    out = tmp_path / "eval"
    args = ["score", "--cases", str(tmp_path / "cases"), "--model", str(model), "--out", str(out)]
    assert main(args) == 0
    report = json.loads((out / "hard_cases.json").read_text())
    with (out / "per_image.csv").open() as f:
        dice = {row["image_id"]: float(row["dice"]) for row in csv.DictReader(f)}
    assert report["all"]["n"] == len(dice) == len(cases)
    assert report["groups"] == json.loads(json.dumps(by_group(cases, dice)))


def test_fabric_stays_in_its_band_away_from_the_lesion() -> None:
    mask = np.zeros((192, 256), np.uint8)
    mask[80:110, 100:140] = 255
    for seed in range(12):
        picture = Image.new("RGB", (256, 192), (200, 170, 150))
        fabric(ImageDraw.Draw(picture), mask, np.random.default_rng(seed))
        changed = np.any(np.asarray(picture) != (200, 170, 150), axis=2)
        rows, cols = np.nonzero(changed)
        assert changed.any() and not (changed & (mask > 0)).any()
        # One band along one edge: everything drawn lies in a strip touching that edge.
        band = (cols.min(), rows.min(), cols.max(), rows.max())
        assert band[0] == 0 or band[1] == 0 or band[2] == 255 or band[3] == 191
        assert changed[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].mean() > 0.95

"""The zoomed crops the second look is fine-tuned on: the lesion's largest part, jittered, cut
with segcore.second_look's square, one per id, the same on every run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from isic.data import find_samples
from train.zoom_crops import jittered_focus, main

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_focus_is_the_largest_part_moved_a_little() -> None:
    mask = np.zeros((192, 256), np.uint8)
    mask[100:140, 150:200] = 255  # the largest part: 40 x 50 px
    mask[10:20, 10:20] = 255
    for seed in range(20):
        found = jittered_focus(mask, np.random.default_rng(seed))
        assert found is not None
        centre_x = (found.left + found.right) / 2 * 256
        centre_y = (found.top + found.bottom) / 2 * 192
        assert abs(centre_x - 175) <= 0.15 * 50 + 1 and abs(centre_y - 120) <= 0.15 * 40 + 1
        assert 0.85 * 50 - 1 <= (found.right - found.left) * 256 <= 1.15 * 50 + 1
        assert found.share == (40 * 50) / mask.size


def test_an_empty_mask_has_no_focus() -> None:
    assert jittered_focus(np.zeros((64, 64), np.uint8), np.random.default_rng(0)) is None


def _crops(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_one_crop_per_id_around_the_lesion_and_the_same_on_every_run(tmp_path: Path) -> None:
    args = ["--data", str(FIXTURES), "--split", str(FIXTURES / "models" / "split.json")]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert _crops(tmp_path / "a") == _crops(tmp_path / "b")
    record = json.loads((tmp_path / "a" / "crops.json").read_text())
    sources = {s.image_id: s for s in find_samples(FIXTURES / "isic2018_fullview")}
    assert set(record) == set(sources)
    for sample in find_samples(tmp_path / "a"):
        with Image.open(sample.image_path) as crop, Image.open(sample.mask_path) as mask:
            assert crop.size == mask.size == tuple(record[sample.image_id]["size"])
            lesion = np.asarray(mask) > 127
        with Image.open(sources[sample.image_id].image_path) as source:
            assert crop.size[0] <= source.size[0] and crop.size[1] <= source.size[1]
        assert lesion.any() and not lesion.all()
        assert 0.25 <= record[sample.image_id]["margin"] <= 1.0

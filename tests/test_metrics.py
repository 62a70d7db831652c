"""ISIC metrics: hand-computed cases and agreement with the official scorer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from isic.data import find_samples, load_pair
from segcore.metrics import macro_average, score_pair


def test_hand_computed_case() -> None:
    truth = np.zeros((4, 4), np.uint8)
    truth[:2, :2] = 255  # 4 lesion pixels
    pred = np.zeros((4, 4), np.uint8)
    pred[:2, :3] = 255  # 6 predicted: TP 4, FP 2, FN 0, TN 10
    m = score_pair(truth, pred)
    assert m["jaccard"] == pytest.approx(4 / 6)
    assert m["dice"] == pytest.approx(8 / 10)
    assert m["threshold_jaccard"] == pytest.approx(4 / 6)
    assert m["sensitivity"] == 1.0
    assert m["specificity"] == pytest.approx(10 / 12)
    assert m["accuracy"] == pytest.approx(14 / 16)


def test_threshold_jaccard_zeroes_poor_images() -> None:
    truth = np.zeros((10, 10), np.uint8)
    truth[:, :5] = 255
    pred = np.zeros((10, 10), np.uint8)
    pred[:, :3] = 255  # Jaccard 0.6 < 0.65
    m = score_pair(truth, pred)
    assert m["jaccard"] == pytest.approx(0.6)
    assert m["threshold_jaccard"] == 0.0


def test_binarises_above_128_and_empty_cases() -> None:
    truth = np.full((3, 3), 128, np.uint8)  # 128 is background
    assert score_pair(truth, truth)["dice"] == 1.0
    assert score_pair(np.zeros((2, 2)), np.full((2, 2), 255))["dice"] == 0.0


def test_size_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="prediction"):
        score_pair(np.zeros((4, 4)), np.zeros((4, 5)))


def _perturbed(mask: np.ndarray, variant: int) -> np.ndarray:
    if variant == 0:
        return np.roll(mask, mask.shape[1] // 8, axis=1)
    if variant == 1:
        return np.zeros_like(mask)
    if variant == 2:
        return np.full_like(mask, 255)
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:, 1:] |= mask[:, :-1]
    return grown


def test_matches_the_official_scorer(isic_root: Path, tmp_path: Path) -> None:
    scoring = pytest.importorskip("isic_challenge_scoring.segmentation")
    truth_dir, pred_dir = tmp_path / "truth", tmp_path / "pred"
    truth_dir.mkdir()
    pred_dir.mkdir()
    rows = []
    samples = find_samples(isic_root, "training") + find_samples(isic_root, "validation")
    for index, sample in enumerate(samples):
        _, truth = load_pair(sample)
        prediction = _perturbed(truth, index % 4)
        Image.fromarray(truth).save(truth_dir / f"{sample.image_id}_segmentation.png")
        Image.fromarray(prediction).save(pred_dir / f"{sample.image_id}_prediction.png")
        rows.append(score_pair(truth, prediction))
    ours = macro_average(rows)
    reference = scoring.SegmentationScore.from_dir(truth_dir, pred_dir).macro_average
    for name in ("accuracy", "sensitivity", "specificity", "jaccard", "threshold_jaccard", "dice"):
        assert ours[name] == pytest.approx(float(reference[name]), abs=1e-12), name


def test_masks_are_read_as_the_official_scorer_reads_them() -> None:
    """Lesion is > 128, as in isic-challenge-scoring: 128 is background, 129 is lesion."""
    empty = np.zeros((4, 4), np.uint8)
    assert score_pair(empty, np.full((4, 4), 128, np.uint8))["dice"] == 1.0
    assert score_pair(empty, np.full((4, 4), 129, np.uint8))["dice"] == 0.0

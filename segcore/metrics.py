"""ISIC 2018 Task 1 metrics, as the official scorer (isic-challenge-scoring) defines them.

Masks are binarised by segcore.processing.binary, scored per image at the ground truth's own
resolution, and macro-averaged. Thresholded Jaccard scores an image with Jaccard < 0.65 as 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from segcore.processing import binary

JACCARD_THRESHOLD = 0.65
METRIC_NAMES = ("accuracy", "sensitivity", "specificity", "jaccard", "threshold_jaccard", "dice")


def score_pair(truth: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """Score one predicted 0..255 mask against its ground truth of the same (H, W)."""
    if truth.shape[:2] != prediction.shape[:2]:
        raise ValueError(f"prediction {prediction.shape[:2]} != ground truth {truth.shape[:2]}")
    t = binary(np.asarray(truth).reshape(truth.shape[:2]))
    p = binary(np.asarray(prediction).reshape(prediction.shape[:2]))
    tp = int(np.count_nonzero(t & p))
    tn = int(np.count_nonzero(~t & ~p))
    fp = int(np.count_nonzero(~t & p))
    fn = int(np.count_nonzero(t & ~p))
    # The reference scorer scores undefined ratios (empty denominators) as 1.
    union = tp + fp + fn
    jaccard = tp / union if union else 1.0
    return {
        "accuracy": (tp + tn) / (tp + tn + fp + fn),
        "sensitivity": tp / (tp + fn) if tp + fn else 1.0,
        "specificity": tn / (tn + fp) if tn + fp else 1.0,
        "jaccard": jaccard,
        "threshold_jaccard": jaccard if jaccard >= JACCARD_THRESHOLD else 0.0,
        "dice": 2 * tp / (2 * tp + fp + fn) if union else 1.0,
    }


def macro_average(per_image: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Mean of each metric over images; also reports n."""
    rows = list(per_image)
    if not rows:
        raise ValueError("no images to average")
    summary: dict[str, float] = {"n": len(rows)}
    for name in METRIC_NAMES:
        summary[name] = float(np.mean([row[name] for row in rows]))
    return summary

"""The review-flag studies: the failure-focused fit solves its own objective and ranks the
failures first, the decision follows the criteria's rules, and the contrast signal reads a dark
lesion as one."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from benchmarks.studies.failure_flag import (
    CANDIDATES,
    PENALTY_C,
    decision,
    failure_fit,
    logistic,
    mask_dice,
)
from benchmarks.studies.look_signals import RING, edge_contrast, ring_of
from benchmarks.studies.quality_fit import Item


def test_the_logistic_fit_is_the_penalised_optimum() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(400, 3))
    failed = (z @ [1.5, -1.0, 0.0] + rng.normal(size=400) > 1.0).astype(float)
    w = rng.uniform(0.5, 1.5, 400)
    beta = logistic(z, failed, w)
    x = np.column_stack([np.ones(400), z])
    p = 1 / (1 + np.exp(-(x @ beta)))
    gradient = x.T @ (w * (p - failed)) + np.r_[0.0, beta[1:] / PENALTY_C]
    assert np.abs(gradient).max() < 1e-8
    assert beta[1] > 0 > beta[2]


def test_the_score_ranks_the_failures_lowest() -> None:
    rng = np.random.default_rng(1)
    items = []
    for k in range(300):
        doubt = rng.choice([rng.uniform(0.0, 0.8), rng.uniform(0.9, 1.0)])
        dice = 0.4 if doubt > 0.9 else 0.9
        items.append(Item(("a", "b")[k % 2], str(k), dice, np.asarray([doubt, rng.uniform()])))
    scorer = failure_fit(items)
    predicted = scorer.predict(np.stack([item.values for item in items]))
    failed = np.asarray([item.dice < 0.7 for item in items])
    assert predicted[failed].max() < predicted[~failed].min()
    assert 0.0 <= predicted.min() <= predicted.max() <= 1.0
    assert abs(np.mean(predicted < scorer.threshold) - 0.10) < 0.02


def test_mask_dice() -> None:
    a = np.zeros((4, 4), bool)
    b = a.copy()
    assert mask_dice(a, b) == 1.0
    a[0, :2] = True
    b[0, 1:3] = True
    assert mask_dice(a, b) == 0.5


def _candidate(
    caught: int, *, auroc: float = 0.94, error: float = 0.058, extra_pass: bool = False
) -> dict[str, Any]:
    row = {
        "failures": 55,
        "failures_caught": caught / 55,
        "flagged_share": 0.095,
        "auroc": auroc,
        "mean_abs_error": error,
    }
    return {"signals": ["s"] * 6, "extra_pass": extra_pass, "held_out_and_hard_cases": row}


def test_the_decision_follows_the_criteria() -> None:
    base = {name: _candidate(37, extra_pass=name in ("M7", "FM7")) for name in CANDIDATES}
    assert decision(base)["served"] == "A"

    free = copy.deepcopy(base)
    free["F6"] = _candidate(40)
    free["M7"] = _candidate(45, extra_pass=True)
    assert decision(free)["served"] == "F6", "a free candidate comes before an extra pass"

    short = copy.deepcopy(base)
    short["M7"] = _candidate(41, extra_pass=True)
    assert decision(short)["served"] == "A", "an extra pass must also meet the 75 % goal"
    short["M7"] = _candidate(42, extra_pass=True)
    assert decision(short)["served"] == "M7"

    worse = copy.deepcopy(base)
    worse["F6"] = _candidate(41, auroc=0.93)
    worse["F10"] = _candidate(41, error=0.064)
    assert decision(worse)["served"] == "A"


def test_the_ring_and_the_contrast_of_a_dark_lesion() -> None:
    mask = np.zeros((16, 16), bool)
    mask[6:10, 6:10] = True
    ring = ring_of(mask)
    assert not (ring & mask).any()
    assert ring.sum() == (4 + 2 * RING) ** 2 - 16
    skin = np.full((16, 16, 3), 200, np.uint8)
    skin[mask] = 80
    assert edge_contrast(skin, mask) > 0
    assert edge_contrast(255 - skin, mask) < 0
    assert edge_contrast(skin, np.zeros_like(mask)) == 0.0

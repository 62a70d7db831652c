"""A failure-focused review flag, and a mirror's agreement as a signal, against the flag served
(issue 29), under the criteria written first (`benchmarks/studies/failure_flag_criteria.md`).

    python -m benchmarks.studies.failure_flag --data ../shared/data --split models/split.json \
        --hard-cases runs/hard --darker-skin runs/dark
    python -m benchmarks.studies.failure_flag --table   # the model card's table, from the JSON

The images, the folds, the threshold rule and the report are quality_fit's; the candidates
differ in their signals and in what the score is fitted to. Writes
benchmarks/failure_flag.json.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.provenance import stamp
from benchmarks.studies.quality_fit import (
    FAILURE,
    FLAGGED_SHARE,
    GOAL_POOL,
    Item,
    Scorer,
    add_set_arguments,
    fit,
    folds_of,
    out_of_fold,
    percent,
    pooled_items,
    report_of,
    standardisation,
    weighted_percentile,
    weights_of,
)
from benchmarks.studies.quality_signals import EXTRA, extra_signals
from segcore.paths import REPOSITORY
from segcore.predictor import TFLitePredictor
from segcore.processing import THRESHOLD, preprocess
from segcore.quality import SIGNALS, signals

PENALTY_C = 1.0
"""The logistic regression's inverse L2 strength on the standardised coefficients."""
MIRROR = "mirror_agreement"
ALL_SIGNALS = (*SIGNALS, *EXTRA, MIRROR)
CANDIDATES: dict[str, tuple[tuple[str, ...], str]] = {
    "A": (SIGNALS, "dice"),
    "F6": (SIGNALS, "failure"),
    "F10": ((*SIGNALS, *EXTRA), "failure"),
    "M7": ((*SIGNALS, MIRROR), "dice"),
    "FM7": ((*SIGNALS, MIRROR), "failure"),
}
"""Each candidate's signals and what its score is fitted to (the criteria's names)."""
EXTRA_PASS = frozenset({"M7", "FM7"})
REPORT = REPOSITORY / "benchmarks" / "failure_flag.json"
CRITERIA = "benchmarks/studies/failure_flag_criteria.md"


def mask_dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice of two masks, 1 when both are empty."""
    total = int(np.count_nonzero(a)) + int(np.count_nonzero(b))
    return 1.0 if total == 0 else 2 * int(np.count_nonzero(a & b)) / total


@dataclass
class AllValues:
    """ALL_SIGNALS of an image; the mirror's map from a two-view predictor of the same file."""

    mirrors: TFLitePredictor

    def __call__(self, probabilities: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        model_input = preprocess(pixels, self.mirrors.input_size)
        mirrored = self.mirrors.mirror_maps(model_input)[1][0]
        values = {
            **signals(probabilities),
            **extra_signals(probabilities),
            MIRROR: mask_dice(probabilities > THRESHOLD, mirrored > THRESHOLD),
        }
        return np.asarray([values[name] for name in ALL_SIGNALS])


def logistic(z: np.ndarray, failed: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted, L2-penalised (C = PENALTY_C, intercept free) logistic regression by Newton's
    method: (intercept, coefficients)."""
    x = np.column_stack([np.ones(len(z)), z])
    penalty = np.r_[0.0, np.full(z.shape[1], 1.0 / PENALTY_C)]
    beta = np.zeros(x.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        gradient = x.T @ (w * (p - failed)) + penalty * beta
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    return beta


@dataclass
class FailureFit:
    """The criteria's failure-focused score: a + b * P(failure), clipped to [0, 1]."""

    means: np.ndarray
    scales: np.ndarray
    beta: np.ndarray
    a: float
    b: float
    threshold: float = 0.0

    def risk(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.means) / self.scales
        risk: np.ndarray = 1.0 / (1.0 + np.exp(-(self.beta[0] + z @ self.beta[1:])))
        return risk

    def predict(self, x: np.ndarray) -> np.ndarray:
        clipped: np.ndarray = np.clip(self.a + self.b * self.risk(x), 0.0, 1.0)
        return clipped


def failure_fit(items: list[Item]) -> FailureFit:
    x = np.stack([item.values for item in items])
    dice = np.asarray([item.dice for item in items])
    w = weights_of(items)
    w = w / w.mean()
    means, scales = standardisation(x, w)
    beta = logistic((x - means) / scales, (dice < FAILURE).astype(float), w)
    result = FailureFit(means, scales, beta, 0.0, 0.0)
    p = result.risk(x)
    root = np.sqrt(w)
    (a, b), *_ = np.linalg.lstsq(
        np.column_stack([np.ones(len(p)), p]) * root[:, None], dice * root, rcond=None
    )
    result.a, result.b = float(a), float(b)
    result.threshold = weighted_percentile(result.predict(x), w, FLAGGED_SHARE)
    return result


FITTERS: dict[str, Callable[[list[Item]], Scorer]] = {"dice": fit, "failure": failure_fit}


def candidate_report(
    items: list[Item],
    folds: np.ndarray,
    names: tuple[str, ...],
    target: str,
    extra_pass: bool,
    columns_of: tuple[str, ...] = ALL_SIGNALS,
) -> dict[str, Any]:
    """One candidate's out-of-fold report: its signals (`names`, columns of the items' values
    in `columns_of` order), fitted to `target` ("dice" or "failure")."""
    columns = [columns_of.index(name) for name in names]
    chosen = [Item(i.set_name, i.group, i.dice, i.values[columns]) for i in items]
    predicted, flagged = out_of_fold(chosen, folds, FITTERS[target])

    def report(sets: Collection[str]) -> dict[str, Any]:
        pick = np.asarray([item.set_name in sets for item in chosen])
        return report_of(
            [i for i, c in zip(chosen, pick, strict=True) if c], predicted[pick], flagged[pick]
        )

    return {
        "signals": list(names),
        "fitted_to": target,
        "extra_pass": extra_pass,
        "held_out_and_hard_cases": report(GOAL_POOL),
        "by_set": {name: report({name}) for name in dict.fromkeys(i.set_name for i in items)},
    }


def decision(candidates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The criteria's rules on the goal pool: each candidate's eligibility, and the one served."""
    a = candidates["A"]["held_out_and_hard_cases"]
    checks: dict[str, dict[str, Any]] = {}
    for name, candidate in candidates.items():
        if name == "A":
            continue
        c = candidate["held_out_and_hard_cases"]
        more = round((c["failures_caught"] - a["failures_caught"]) * a["failures"])
        rules = {
            "catches_3_more": more >= 3,
            "flags_at_most_10pct": c["flagged_share"] <= 0.10,
            "auroc_within_0.005": c["auroc"] >= a["auroc"] - 0.005,
            "error_within_0.005": c["mean_abs_error"] <= a["mean_abs_error"] + 0.005,
        }
        checks[name] = {
            "more_failures_caught": more,
            "rules": rules,
            "eligible": all(rules.values()),
            "meets_goal": c["failures_caught"] >= 0.75,
        }
    free = [n for n in checks if not candidates[n]["extra_pass"] and checks[n]["eligible"]]
    costly = [
        n
        for n in checks
        if candidates[n]["extra_pass"] and checks[n]["eligible"] and checks[n]["meets_goal"]
    ]
    pool = free or costly
    served = "A"
    if pool:
        best = max(checks[n]["more_failures_caught"] for n in pool)
        near = [n for n in pool if checks[n]["more_failures_caught"] >= best - 1]
        served = min(near, key=lambda n: (len(candidates[n]["signals"]), n))
    return {"candidates": checks, "served": served}


def table(document: dict[str, Any]) -> str:
    """Every candidate on the criteria's pool and the decision, from the JSON."""
    lines = [
        "| candidate | signals | fitted to | AUROC (95 % CI) | flagged "
        "| failures caught (95 % CI) | mean abs. error |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, candidate in document["candidates"].items():
        row = candidate["held_out_and_hard_cases"]
        low, high = row["auroc_ci95"]
        c_low, c_high = row["failures_caught_ci95"]
        caught = round(row["failures_caught"] * row["failures"])
        extra = " + one more model call" if candidate["extra_pass"] else ""
        lines.append(
            f"| {name} | {len(candidate['signals'])}{extra} | {candidate['fitted_to']} "
            f"| {row['auroc']:.3f} ({low:.3f}..{high:.3f}) | {percent(row['flagged_share'])} "
            f"| {caught} of {row['failures']}, {percent(row['failures_caught'])} "
            f"({c_low:.0%}..{c_high:.0%}) | {row['mean_abs_error']:.3f} |"
        )
    made = document["decision"]
    served = made["served"]
    lines.append(
        "\nOut of fold, on the held-out crops, full field and hard cases together. "
        + (
            "No candidate is eligible under the criteria: A stays served."
            if served == "A"
            else f"{served} is served."
        )
        + f" Measured {document['measured']} ({document['machine']})."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.studies.failure_flag", description=__doc__
    )
    add_set_arguments(parser)
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(REPORT.read_text())), end="")
        return 0
    values = AllValues(TFLitePredictor(args.model, num_threads=2, flips=2))
    items = pooled_items(parser, args, values)
    folds = folds_of(items)
    candidates = {
        name: candidate_report(items, folds, names, target, name in EXTRA_PASS)
        for name, (names, target) in CANDIDATES.items()
    }
    document: dict[str, Any] = {
        **stamp(),
        "criteria": CRITERIA,
        "failure": f"Dice < {FAILURE}",
        "candidates": candidates,
        "decision": decision(candidates),
    }
    REPORT.write_text(json.dumps(document, indent=2) + "\n")
    print(table(document), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Fit and report the quality estimate and its "needs review" flag (issue 29), under the
criteria written first (`benchmarks/studies/second_look_criteria.md`).

    python -m isic.hard_cases make --data ../shared/data --split models/split.json --out runs/hard
    python -m isic.darker_skin make --data ../shared/data --split models/split.json --out runs/dark
    python -m benchmarks.studies.quality_fit --data ../shared/data --split models/split.json \
        --hard-cases runs/hard --darker-skin runs/dark
    python -m benchmarks.studies.quality_fit --table    # the model card's table, from the JSON

Every image is the served prediction (segcore), scored with the official Dice. The figures
reported are out of fold (5 folds grouped by ISIC id: an id's crop, full field, hard case and
darker copies share a fold), each image's estimate and flag from the fit on the other folds;
the served fit (segcore/quality.json) is the same fit on every image. Writes
benchmarks/quality.json (the report) and models/quality_reliability.png.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from benchmarks.provenance import stamp
from benchmarks.studies.ladder import SET_NAMES
from isic.data import Sample, find_samples, load_pair
from isic.sets import standard_set_samples
from segcore.decoding import read_for_model
from segcore.metrics import score_pair
from segcore.paths import DEPLOYED_MODEL, REPOSITORY
from segcore.predictor import TFLitePredictor
from segcore.processing import postprocess, preprocess
from segcore.quality import QUALITY_FILE, SIGNALS, signals

FOLDS = 5
SEED = 29
FAILURE = 0.7
FLAGGED_SHARE = 0.10
BOOTSTRAP = 1000
DARK_LEVELS = range(1, 6)
REPORT = REPOSITORY / "benchmarks" / "quality.json"
PLOT = REPOSITORY / "models" / "quality_reliability.png"
NAMES = {**SET_NAMES, "darker_skin": "darker-skin proxy (levels 1-5)"}
GOAL_POOL = ("holdout_crops", "holdout_fullview", "hard_cases")
"""The issue's goal is stated on the held-out sets and the hard cases together."""


@dataclass
class Item:
    set_name: str
    group: str
    dice: float
    values: np.ndarray


def source_ids(folder: Path, listing: str, key: str) -> dict[str, str]:
    document = json.loads((folder / listing).read_text())
    cases = document["cases"] if isinstance(document, dict) and "cases" in document else document
    if isinstance(cases, dict):
        return {
            case_id: case["source_id"]
            for case_id, case in cases.items()
            if case["level"] in DARK_LEVELS
        }
    return {case["image_id"]: case[key] for case in cases}


Values = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""An image's signals, in a fixed order, from its map on the model's grid (S, S) and the
decoded pixels (h, w, 3) it came from (for a signal that needs another look at them)."""


def served_values(probabilities: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """segcore.quality's SIGNALS, in their order."""
    values = signals(probabilities)
    return np.asarray([values[name] for name in SIGNALS])


def scored(
    set_name: str,
    samples: list[Sample],
    groups: dict[str, str],
    predictor: TFLitePredictor,
    values: Values = served_values,
) -> list[Item]:
    size = predictor.input_size
    items = []
    for sample in samples:
        if sample.image_id not in groups:
            continue
        _, truth = load_pair(sample)
        with Image.open(sample.image_path) as image:
            pixels = read_for_model(image, size).pixels
        probabilities = predictor.predict(preprocess(pixels, size)[None])[0]
        dice = score_pair(truth, postprocess(probabilities, *truth.shape))["dice"]
        items.append(Item(set_name, groups[sample.image_id], dice, values(probabilities, pixels)))
    return items


def add_set_arguments(parser: argparse.ArgumentParser) -> None:
    """The command line of a study on the pooled sets (and --table for its committed report)."""
    parser.add_argument("--table", action="store_true", help="print the committed report's table")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--split", type=Path)
    parser.add_argument("--hard-cases", type=Path, help="isic.hard_cases make's out")
    parser.add_argument("--darker-skin", type=Path, help="isic.darker_skin make's out")
    parser.add_argument("--model", type=Path, default=DEPLOYED_MODEL)


def pooled_items(
    parser: argparse.ArgumentParser, args: argparse.Namespace, values: Values = served_values
) -> list[Item]:
    """Every image of the pooled sets, scored with the served prediction of --model."""
    if not (args.data and args.split and args.hard_cases and args.darker_skin):
        parser.error("--data, --split, --hard-cases and --darker-skin (or --table)")
    predictor = TFLitePredictor(args.model, num_threads=2)
    items: list[Item] = []
    for set_name, samples in standard_set_samples(args.data, args.split).items():
        by_id = {s.image_id: s.image_id for s in samples}
        items += scored(set_name, samples, by_id, predictor, values)
    items += scored(
        "hard_cases", find_samples(args.hard_cases, "training"),
        source_ids(args.hard_cases, "cases.json", "source_id"), predictor, values,
    )  # fmt: skip
    items += scored(
        "darker_skin", find_samples(args.darker_skin, "training"),
        source_ids(args.darker_skin, "levels.json", "source_id"), predictor, values,
    )  # fmt: skip
    return items


def folds_of(items: list[Item]) -> np.ndarray:
    """Each image's fold: its ISIC id's, drawn once (seeded), so an id's versions share one."""
    groups = sorted({item.group for item in items})
    fold_of_group = dict(
        zip(groups, np.random.default_rng(SEED).permutation(len(groups)) % FOLDS, strict=True)
    )
    return np.asarray([fold_of_group[item.group] for item in items])


class Scorer(Protocol):
    """A fitted estimate of Dice and its review threshold."""

    threshold: float

    def predict(self, x: np.ndarray) -> np.ndarray: ...


def out_of_fold(
    items: list[Item], folds: np.ndarray, fitter: Callable[[list[Item]], Scorer] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each image's estimate and flag from the fit (default: `fit`) on the other folds."""
    fitter = fitter or fit
    x = np.stack([item.values for item in items])
    predicted = np.zeros(len(items))
    flagged = np.zeros(len(items), dtype=bool)
    for fold in range(FOLDS):
        held = folds == fold
        model = fitter([item for item, h in zip(items, held, strict=True) if not h])
        predicted[held] = model.predict(x[held])
        flagged[held] = predicted[held] < model.threshold
    return predicted, flagged


def weights_of(items: list[Item]) -> np.ndarray:
    """Every set weighs the same in total."""
    counts = Counter(item.set_name for item in items)
    return np.asarray([1.0 / counts[item.set_name] for item in items])


@dataclass
class Fit:
    means: np.ndarray
    scales: np.ndarray
    coefficients: np.ndarray
    intercept: float
    threshold: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        raw = self.intercept + ((x - self.means) / self.scales) @ self.coefficients
        clipped: np.ndarray = np.clip(raw, 0.0, 1.0)
        return clipped


def weighted_percentile(values: np.ndarray, weights: np.ndarray, share: float) -> float:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cumulative, share)])


def standardisation(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The signals' weighted means and standard deviations (1 where a signal is constant)."""
    means = np.average(x, axis=0, weights=w)
    scales = np.sqrt(np.average((x - means) ** 2, axis=0, weights=w))
    scales[scales == 0] = 1.0
    return means, scales


def fit(items: list[Item]) -> Fit:
    x = np.stack([item.values for item in items])
    y = np.asarray([item.dice for item in items])
    w = weights_of(items)
    means, scales = standardisation(x, w)
    z = np.column_stack([np.ones(len(x)), (x - means) / scales])
    root = np.sqrt(w)
    solution, *_ = np.linalg.lstsq(z * root[:, None], y * root, rcond=None)
    result = Fit(means, scales, solution[1:], float(solution[0]), 0.0)
    result.threshold = weighted_percentile(result.predict(x), w, FLAGGED_SHARE)
    return result


def auroc(failed: np.ndarray, risk: np.ndarray) -> float | None:
    """P(a failure's risk > a success's risk), ties counting half."""
    positives, negatives = risk[failed], risk[~failed]
    if not len(positives) or not len(negatives):
        return None
    greater = (positives[:, None] > negatives[None, :]).mean()
    ties = (positives[:, None] == negatives[None, :]).mean()
    return float(greater + ties / 2)


def interval(
    failed: np.ndarray, predicted: np.ndarray, flagged: np.ndarray
) -> dict[str, list[float]]:
    """95 % bootstrap intervals (images resampled) of the AUROC and the failures caught."""
    rng = np.random.default_rng(SEED)
    aurocs, caught = [], []
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, len(failed), len(failed))
        value = auroc(failed[pick], -predicted[pick])
        if value is not None:
            aurocs.append(value)
            caught.append(float(flagged[pick][failed[pick]].mean()))
    return {
        "auroc_ci95": np.percentile(aurocs, [2.5, 97.5]).tolist(),
        "failures_caught_ci95": np.percentile(caught, [2.5, 97.5]).tolist(),
    }


def report_of(items: list[Item], predicted: np.ndarray, flagged: np.ndarray) -> dict[str, Any]:
    dice = np.asarray([item.dice for item in items])
    failed = dice < FAILURE
    return {
        "images": len(items),
        "failures": int(failed.sum()),
        "auroc": auroc(failed, -predicted),
        "flagged_share": float(flagged.mean()),
        "failures_caught": float(flagged[failed].mean()) if failed.any() else None,
        **(interval(failed, predicted, flagged) if failed.any() else {}),
        "mean_abs_error": float(np.abs(predicted - dice).mean()),
        "mean_dice": float(dice.mean()),
        "mean_predicted_dice": float(predicted.mean()),
    }


def signal_aurocs(items: list[Item], served: Fit) -> dict[str, float | None]:
    """Each signal alone on the goal pool, read in the direction the served fit gives it
    (a signal with a positive coefficient is risky when low)."""
    pool = [item for item in items if item.set_name in GOAL_POOL]
    failed = np.asarray([item.dice < FAILURE for item in pool])
    x = np.stack([item.values for item in pool])
    signs = np.sign(served.coefficients)
    return {name: auroc(failed, -signs[k] * x[:, k]) for k, name in enumerate(SIGNALS)}


def reliability_plot(items: list[Item], predicted: np.ndarray, out: Path) -> None:
    dice = np.asarray([item.dice for item in items])
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=110)
    for set_name in dict.fromkeys(item.set_name for item in items):
        chosen = np.asarray([item.set_name == set_name for item in items])
        ax.scatter(predicted[chosen], dice[chosen], s=5, alpha=0.35, label=NAMES[set_name])
    edges = np.quantile(predicted, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, predicted, side="right") - 1, 0, 9)
    centres = [predicted[bins == b].mean() for b in range(10) if (bins == b).any()]
    actual = [dice[bins == b].mean() for b in range(10) if (bins == b).any()]
    ax.plot(centres, actual, "k-o", ms=4, label="mean Dice by decile of the estimate")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.set(xlabel="predicted Dice (out of fold)", ylabel="actual Dice", xlim=(0, 1), ylim=(0, 1.02))
    ax.set_title("Quality estimate: predicted vs actual Dice", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def percent(value: float | None) -> str:
    """A share as a percentage in a table ("-" when there is none)."""
    return "-" if value is None else f"{value:.1%}"


def table(document: dict[str, Any]) -> str:
    """The out-of-fold figures as a Markdown table (what the model card shows), from its JSON."""
    lines = [
        f"| set | images | failures (Dice < {FAILURE}) | AUROC (95 % CI) | flagged "
        "| failures caught (95 % CI) "
        "| mean abs. error of the estimate |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    goal = "held-out + hard cases (the goal)"
    rows = {**document["by_set"], goal: document["held_out_and_hard_cases"]}
    for name, row in rows.items():
        auroc_text, caught = "-", percent(row["failures_caught"])
        if row["auroc"] is not None:
            low, high = row["auroc_ci95"]
            auroc_text = f"{row['auroc']:.3f} ({low:.3f}..{high:.3f})"
            low, high = row["failures_caught_ci95"]
            caught += f" ({low:.0%}..{high:.0%})"
        lines.append(
            f"| {NAMES.get(name, name)} | {row['images']} | {row['failures']} | {auroc_text} "
            f"| {percent(row['flagged_share'])} | {caught} "
            f"| {row['mean_abs_error']:.3f} |"
        )
    alone = document["signal_auroc_alone"]["lesion_mean_probability"]
    lines.append(
        f"\nMeasured {document['measured']} ({document['machine']}), out of "
        f"{document['folds']} folds grouped by ISIC id. The lesion's mean probability alone: "
        f"AUROC {alone:.3f} on held-out + hard cases."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.studies.quality_fit", description=__doc__
    )
    add_set_arguments(parser)
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(REPORT.read_text())), end="")
        return 0
    items = pooled_items(parser, args)
    predicted, flagged = out_of_fold(items, folds_of(items))
    sets = list(dict.fromkeys(item.set_name for item in items))
    by_set = {}
    for set_name in sets:
        chosen = np.asarray([item.set_name == set_name for item in items])
        by_set[set_name] = report_of(
            [i for i, c in zip(items, chosen, strict=True) if c], predicted[chosen], flagged[chosen]
        )
    pool = np.asarray([item.set_name in GOAL_POOL for item in items])
    goal = report_of(
        [i for i, c in zip(items, pool, strict=True) if c], predicted[pool], flagged[pool]
    )
    served = fit(items)
    sha = hashlib.sha256(args.model.read_bytes()).hexdigest()
    QUALITY_FILE.write_text(
        json.dumps(
            {
                "fitted": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "by": "benchmarks/studies/quality_fit.py",
                "model_sha256": sha,
                "signals": list(SIGNALS),
                "means": served.means.tolist(),
                "scales": served.scales.tolist(),
                "coefficients": served.coefficients.tolist(),
                "intercept": served.intercept,
                "threshold": served.threshold,
            },
            indent=2,
        )
        + "\n"
    )
    document = {
        **stamp(),
        "model_sha256": sha,
        "criteria": "benchmarks/studies/second_look_criteria.md",
        "failure": f"Dice < {FAILURE}",
        "folds": FOLDS,
        "goal": {"auroc": 0.90, "flagged_share_at_most": 0.10, "failures_caught_at_least": 0.75},
        "held_out_and_hard_cases": goal,
        "by_set": by_set,
        "signal_auroc_alone": signal_aurocs(items, served),
        "served_threshold": served.threshold,
        "served_coefficients": dict(zip(SIGNALS, served.coefficients.tolist(), strict=True)),
    }
    REPORT.write_text(json.dumps(document, indent=2) + "\n")
    reliability_plot(items, predicted, PLOT)
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The pass ladder (issue 34): Dice of int8 files at 1, 2 and 4 mirrors on the four evaluation
sets, each against the eight-pass file served until 2026-12-02 with a paired bootstrap, and the
U-Net passes and model-call p50 of each rung.

    git show 22637ee:models/unet.tflite > runs/ladder/two_scale_int8.tflite   # the reference
    python -m isic.hard_cases make --data ../shared/data --split models/split.json --out runs/hard
    python -m benchmarks.studies.ladder --data ../shared/data --split models/split.json \
        --hard-cases runs/hard --model two_scale=runs/ladder/two_scale_int8.tflite \
        --model student2=models/unet.tflite --out runs/ladder/ladder.json
    python -m benchmarks.studies.ladder --table benchmarks/one_pass_ladder.json

(`one_scale` in the committed JSON is the U-Net inside the two-scale float model,
`train.multiscale.load_unet`, converted with `python -m convert --flavours int8`.)
Every figure is the served prediction (segcore): each image decoded and resized as the API does,
the mirrors averaged in the served order, the map upsampled to the ground truth and thresholded.
A model's mirrors are computed once and averaged for each rung, so the four-mirror rung of the
deployed file reproduces models/metrics.json. The criteria the decision rests on were written
first: benchmarks/studies/one_pass_criteria.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from isic.data import Sample, find_samples
from isic.scoring import iter_loaded, model_input
from isic.sets import standard_set_samples
from segcore.flips import averaged
from segcore.metrics import score_pair
from segcore.predictor import TFLitePredictor
from segcore.processing import postprocess

RUNGS = (1, 2, 4)
REFERENCE = ("two_scale", 4)
"""The deployed file at its served four mirrors: what every rung is compared with."""
BOOTSTRAP = 4000
MAX_LOSS = 0.002
"""A rung keeps the quality when no set loses more Dice than this (the criteria, rule 1)."""


def paired_bootstrap(delta: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95 % interval of the mean of per-image differences, resampling images."""
    rng = np.random.default_rng(seed)
    means = delta[rng.integers(0, len(delta), (BOOTSTRAP, len(delta)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def compared(delta: np.ndarray) -> dict[str, Any]:
    """Per-image Dice differences summed up: their mean, its paired bootstrap 95 % interval,
    and how many images got better and worse."""
    return {
        "mean": float(delta.mean()),
        "ci95": list(paired_bootstrap(delta)),
        "better": int((delta > 0).sum()),
        "worse": int((delta < 0).sum()),
    }


def delta_text(comparison: dict[str, Any]) -> str:
    """A `compared` result as a table shows it: mean, low..high."""
    low, high = comparison["ci95"]
    return f"{comparison['mean']:+.4f}, {low:+.4f}..{high:+.4f}"


def rung_dice(samples: list[Sample], predictor: TFLitePredictor) -> dict[int, np.ndarray]:
    """Per-image Dice of each rung (1, 2, 4 mirrors) of one model (at 4 mirrors) on one set."""
    dice: dict[int, list[float]] = {k: [] for k in RUNGS}
    for sample, _, truth in iter_loaded(samples):
        maps = predictor.mirror_maps(model_input(sample, predictor.input_size))
        for k in RUNGS:
            mask = postprocess(averaged(maps[:k])[0], *truth.shape)
            dice[k].append(score_pair(truth, mask)["dice"])
    return {k: np.asarray(v) for k, v in dice.items()}


SET_NAMES = {
    "holdout_crops": "crops",
    "holdout_fullview": "full field",
    "validation": "validation",
    "hard_cases": "hard cases",
}


def table(document: dict[str, Any]) -> str:
    """The ladder as a Markdown table (what the model card shows), from its JSON."""
    sets = list(document["sets"])
    head = " | ".join(f"{SET_NAMES[s]} (vs reference, 95 % CI)" for s in sets)
    lines = [
        f"| rung | U-Net passes | model-call p50 ms | {head} | keeps the quality |",
        "| --- " * (4 + len(sets)) + "|",
    ]
    for name, rung in document["rungs"].items():
        cells = []
        for s in sets:
            cells.append(f"{rung['dice'][s]:.4f} ({delta_text(rung['vs_reference'][s])})")
        lines.append(
            f"| {name} | {rung['unet_passes']} | {rung['predict_p50_ms']:.1f} | "
            + " | ".join(cells)
            + f" | {'yes' if rung['keeps_quality'] else 'no'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.studies.ladder", description=__doc__
    )
    parser.add_argument("--table", type=Path, help="print a ladder JSON as a Markdown table")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--split", type=Path)
    parser.add_argument("--hard-cases", type=Path, help="isic.hard_cases make's out")
    parser.add_argument("--model", action="append", metavar="NAME=PATH", help="an int8 file")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.table.read_text())))
        return 0
    if not (args.data and args.split and args.hard_cases and args.model and args.out):
        parser.error("--data, --split, --hard-cases, --model and --out (or --table)")
    models = dict(m.split("=", 1) for m in args.model)
    if REFERENCE[0] not in models:
        parser.error(f"--model {REFERENCE[0]}=... (the deployed file) is the reference")
    sets = {
        **standard_set_samples(args.data, args.split),
        "hard_cases": find_samples(args.hard_cases, "training"),
    }
    dice: dict[tuple[str, int], dict[str, np.ndarray]] = {}
    results: dict[str, Any] = {}
    for name, path in models.items():
        predictor = TFLitePredictor(Path(path), num_threads=2, flips=max(RUNGS))
        per_set = {s: rung_dice(samples, predictor) for s, samples in sets.items()}
        for k in RUNGS:
            dice[name, k] = {s: per_set[s][k] for s in sets}
            rung = TFLitePredictor(Path(path), num_threads=2, flips=k)
            results[f"{name}/{k}"] = {
                "model": path,
                "mirrors": k,
                "unet_passes": rung.unet_passes,
                "predict_p50_ms": rung.latency_ms(repeats=50)["p50_ms"],
                "dice": {s: float(v.mean()) for s, v in dice[name, k].items()},
            }
        print(json.dumps({k: v for k, v in results.items() if k.startswith(name)}), flush=True)
    reference = dice[REFERENCE]
    for (name, k), rung_sets in dice.items():
        means = {s: float((rung_sets[s] - reference[s]).mean()) for s in sets}
        results[f"{name}/{k}"]["vs_reference"] = {
            s: compared(rung_sets[s] - reference[s]) for s in sets
        }
        results[f"{name}/{k}"]["keeps_quality"] = all(m >= -MAX_LOSS for m in means.values())
    document = {
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {len_cpus()} cores",
        "reference": f"{REFERENCE[0]}/{REFERENCE[1]}",
        "criteria": "benchmarks/studies/one_pass_criteria.md",
        "sets": {s: len(samples) for s, samples in sets.items()},
        "rungs": results,
    }
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps(document, indent=2))
    return 0


def len_cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())

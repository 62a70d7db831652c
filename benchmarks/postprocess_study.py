"""Study: does test-time flipping or mask clean-up (largest component, hole filling) help on
held-out data? Scores each variant with the ISIC metric at native resolution.

    python -m benchmarks.postprocess_study --model build/tflite/unet_int8.tflite \
        --data ../shared/data --split models/split.json --hard runs/hard --json OUT

Variants act on the model-size probability map before the shared upsampling: `flips2` averages
the map with its left-right mirror's, `flips4` also the up-down and both mirrors', `flips8` also
the four of the transposed image (quarter turns); `largest` keeps the largest connected lesion
region; `filled` fills holes; `largest+filled` both. `flips4@T` thresholds the served (four-flip)
map at T instead of segcore's THRESHOLD, after the same upsampling.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import ndimage

from isic.data import find_samples
from isic.scoring import iter_loaded, model_input
from isic.sets import standard_set_samples
from segcore.flips import mirrored_maps
from segcore.metrics import macro_average, score_pair
from segcore.predictor import TFLitePredictor
from segcore.processing import THRESHOLD, mask_lut, postprocess, probability_image

Clean = Callable[[np.ndarray], np.ndarray]


def largest(prob: np.ndarray) -> np.ndarray:
    """Only the largest connected lesion region of the thresholded map."""
    labels, count = ndimage.label(prob > THRESHOLD)
    if count < 2:
        return prob
    sizes = ndimage.sum_labels(np.ones_like(prob), labels, range(1, count + 1))
    return np.where(labels == 1 + int(np.argmax(sizes)), prob, 0.0)


def filled(prob: np.ndarray) -> np.ndarray:
    """The thresholded map's holes filled."""
    holes = ndimage.binary_fill_holes(prob > THRESHOLD) & ~(prob > THRESHOLD)
    return np.where(holes, 1.0, prob)


THRESHOLDS = (0.4, 0.45, 0.55, 0.6, 0.65, 0.7)
"""Other thresholds than THRESHOLD tried on the four-flip map."""
TTA_FLIPS = {"single": 1, "flips2": 2, "flips4": 4, "flips8": 8}
"""The test-time flip variants, by name."""
CLEANUPS: dict[str, Clean] = {
    "none": lambda p: p,
    "largest": largest,
    "filled": filled,
    "largest+filled": lambda p: filled(largest(p)),
}


def thresholded(prob: np.ndarray, height: int, width: int, threshold: float) -> np.ndarray:
    """`postprocess` with another threshold: the 0/255 mask of the upsampled map above it."""
    return np.asarray(probability_image(prob, width, height).point(mask_lut(threshold)))


def flipped_maps(predictor: TFLitePredictor, x: np.ndarray) -> list[np.ndarray]:
    """The input's probability map with 1, 2, 4 and 8 test-time flips (segcore.flips), from one
    model call per view."""
    maps = [m[0] for m in mirrored_maps(predictor.predict, x[None], 8)]
    return [np.mean(maps[:flips], axis=0) for flips in TTA_FLIPS.values()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.postprocess_study")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", type=Path, required=True)
    parser.add_argument("--hard", type=Path, help="a hard-cases folder (isic.hard_cases make)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    predictor = TFLitePredictor(args.model, num_threads=2, flips=1)
    sets = standard_set_samples(args.data, args.split)
    if args.hard:
        sets["hard_cases"] = find_samples(args.hard, "training")
    results: dict[str, dict[str, float]] = {}
    for name, samples in sets.items():
        rows: dict[str, list[dict[str, float]]] = {}
        for sample, _, truth in iter_loaded(samples):
            height, width = truth.shape
            maps = flipped_maps(predictor, model_input(sample, predictor.input_size))
            tta = dict(zip(TTA_FLIPS, maps, strict=True))
            for tta_name, prob in tta.items():
                for clean_name, clean in CLEANUPS.items():
                    mask = postprocess(clean(prob), height, width)
                    rows.setdefault(f"{tta_name}/{clean_name}", []).append(score_pair(truth, mask))
            for threshold in THRESHOLDS:
                mask = thresholded(tta["flips4"], height, width, threshold)
                rows.setdefault(f"flips4@{threshold}", []).append(score_pair(truth, mask))
        results[name] = {variant: macro_average(r)["dice"] for variant, r in rows.items()}
        print(name, json.dumps({k: round(v, 4) for k, v in results[name].items()}), flush=True)
    variants = list(next(iter(results.values())))
    print("| variant | " + " | ".join(results) + " |")
    print("| --- " * (1 + len(results)) + "|")
    for variant in variants:
        print(f"| {variant} | " + " | ".join(f"{results[s][variant]:.4f}" for s in results) + " |")
    if args.json:
        args.json.write_text(json.dumps({"model": str(args.model), "dice": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

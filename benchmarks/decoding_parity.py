"""What the bounded decoding costs in Dice: the deployed model on the three evaluation sets, fed
by the serving decode (reduced-scale JPEG draft, 8-bit probability upscaling) and by a full
decode with float post-processing, the reference.

    python -m benchmarks.decoding_parity --data ../shared/data [--json FILE]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from isic.data import load_pair
from isic.scoring import model_input
from isic.sets import standard_set_samples
from segcore.metrics import macro_average, score_pair
from segcore.paths import DEPLOYED_MODEL
from segcore.predictor import TFLitePredictor
from segcore.processing import THRESHOLD, postprocess, preprocess

ROOT = Path(__file__).resolve().parent.parent


def reference_mask(
    predictor: TFLitePredictor, image: np.ndarray, height: int, width: int
) -> np.ndarray:
    """Full decode, float bilinear upscaling, threshold: no memory bounds."""
    probabilities = predictor.predict(preprocess(image, predictor.input_size)[None])[0]
    full = Image.fromarray(probabilities.astype(np.float32)).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    return np.where(np.asarray(full) > THRESHOLD, 255, 0).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.decoding_parity")
    parser.add_argument("--data", type=Path, required=True, help="folder with isic2018/ etc.")
    parser.add_argument("--model", type=Path, default=DEPLOYED_MODEL)
    parser.add_argument("--split", type=Path, default=ROOT / "models" / "split.json")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    predictor = TFLitePredictor(args.model)
    size = predictor.input_size
    result = {}
    for name, samples in standard_set_samples(args.data, args.split).items():
        served, reference, agreement = [], [], []
        for sample in samples:
            image, truth = load_pair(sample)
            height, width = truth.shape
            probabilities = predictor.predict(model_input(sample, size)[None])[0]
            mask = postprocess(probabilities, height, width)
            ref = reference_mask(predictor, image, height, width)
            served.append(score_pair(truth, mask))
            reference.append(score_pair(truth, ref))
            agreement.append(float(np.mean(mask == ref)))
        dice_served = macro_average(served)["dice"]
        dice_reference = macro_average(reference)["dice"]
        result[name] = {
            "n": len(samples),
            "dice_serving_decode": round(dice_served, 5),
            "dice_full_decode": round(dice_reference, 5),
            "delta": round(dice_served - dice_reference, 5),
            "mean_pixel_agreement": round(float(np.mean(agreement)), 5),
        }
        print(name, json.dumps(result[name]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

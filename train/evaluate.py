"""Score a Keras model on a folder in the official ISIC layout with the ISIC 2018 metrics.

    python -m train.evaluate --model models/unet_float.keras \
        --data-root ../shared/data/isic2018 --subset validation --out runs/eval_val
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from isic.scoring import evaluate, model_predictor
from isic.sets import select_samples, standard_set_samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m train.evaluate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model", type=Path, required=True, help="a .keras model")
    parser.add_argument(
        "--data-root",
        type=Path,
        help="folder holding the official ISIC 2018 sub-folders",
    )
    parser.add_argument("--subset", choices=["training", "validation"], default="validation")
    parser.add_argument("--split", type=Path, help="split.json of a run: score only one part")
    parser.add_argument("--part", choices=["train", "holdout"], default="holdout")
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument(
        "--standard-sets",
        type=Path,
        metavar="DATA",
        help="score the held-out crops, their full-field copies and the official "
        "validation under DATA (needs --split); writes metrics.json into --out",
    )
    args = parser.parse_args(argv)

    import keras

    import train.losses  # noqa: F401  (registers the custom loss/metric for loading)

    predict, size = model_predictor(keras.saving.load_model(args.model, compile=False))
    if args.standard_sets is None:
        if args.data_root is None:
            parser.error("give --data-root (or --standard-sets)")
        samples = select_samples(args.data_root, args.subset, args.split, args.part)
        print(json.dumps(evaluate(samples, predict, size, args.out)[0], indent=2))
        return 0
    if args.split is None:
        parser.error("--standard-sets needs --split")
    metrics = {
        name: evaluate(samples, predict, size, args.out / name)[0]
        for name, samples in standard_set_samples(args.standard_sets, args.split).items()
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

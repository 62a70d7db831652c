"""Average the weights of models of one architecture (a "model soup"): a candidate to score on
held-out data like any trained model.

    python -m train.average runs/a/unet_float.keras runs/b/unet_float.keras \
        --out runs/soup/unet_float.keras [--weights 0.5 0.5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from train.model_args import build_and_save, check_model_paths


def average_weights(weight_sets: list[list[np.ndarray]], shares: list[float]) -> list[np.ndarray]:
    """The share-weighted mean of each weight tensor over the models (shares sum to 1)."""
    if len(shares) != len(weight_sets) or len(weight_sets) < 2:
        raise ValueError("need one share per model and at least two models")
    if not np.isclose(sum(shares), 1.0) or min(shares) < 0:
        raise ValueError(f"shares must be non-negative and sum to 1, got {shares}")
    shapes = [[w.shape for w in weights] for weights in weight_sets]
    if any(s != shapes[0] for s in shapes[1:]):
        raise ValueError("the models do not share one architecture (weight shapes differ)")
    weights = np.asarray(shares, dtype=np.float64)
    return [
        np.tensordot(weights, np.stack(tensors), axes=1).astype(tensors[0].dtype)
        for tensors in zip(*weight_sets, strict=True)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.average", description=__doc__)
    parser.add_argument("models", nargs="+", type=Path, help=".keras models, same architecture")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--weights", nargs="+", type=float, help="shares (default: equal)")
    args = parser.parse_args(argv)
    shares = args.weights or [1.0 / len(args.models)] * len(args.models)
    check_model_paths(parser, args.models, args.out)
    import keras

    def averaged() -> keras.Model:
        models = [keras.saving.load_model(path, compile=False) for path in args.models]
        if len({str(m.input_shape) for m in models}) > 1:
            raise ValueError("the models take different input sizes")
        models[0].set_weights(average_weights([m.get_weights() for m in models], shares))
        return models[0]

    build_and_save(parser, averaged, args.out)
    print(f"averaged {len(args.models)} models with shares {shares} -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Per-layer full-integer quantization error (tf.lite.experimental.QuantizationDebugger).

    python -m convert.debug --model models/unet_float.keras --data-root ../shared/data/isic2018 \
        --split models/split.json --out runs/quant_debug.csv

Writes every layer's statistics and prints the layers with the largest RMSE relative to their
quantization scale (the usual suspects for selective float fallback).
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m convert.debug", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model", type=Path, default=Path("models/unet_float.keras"))
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--split", type=Path)
    parser.add_argument("--count", type=int, default=50, help="images to measure on")
    parser.add_argument("--out", type=Path, default=Path("runs/quant_debug.csv"))
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    from convert.export import saved_model
    from convert.representative import representative_dataset
    from isic.sets import select_samples

    model = keras.saving.load_model(args.model, compile=False)
    samples = select_samples(args.data_root, "training", args.split, "train")
    dataset = representative_dataset(samples, model.input_shape[1], args.count)
    with tempfile.TemporaryDirectory() as tmp:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model(model, Path(tmp))))
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = dataset
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=dataset
        )
        debugger.run()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as f:
        debugger.layer_statistics_dump(f)
    with open(args.out) as f:
        rows: list[dict[str, Any]] = list(csv.DictReader(f))
    for row in rows:
        rmse, scale = np.sqrt(float(row["mean_squared_error"])), float(row["scale"])
        row["rmse/scale"] = rmse / scale if scale else float("nan")
    rows.sort(key=lambda r: -r["rmse/scale"])
    print(f"{'layer':60} rmse/scale  mean_error")
    for row in rows[: args.top]:
        name, error = row["tensor_name"][:60], float(row["mean_error"])
        print(f"{name:60} {row['rmse/scale']:10.3f}  {error:+.4f}")
    print(f"all {len(rows)} layers: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

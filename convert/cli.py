"""Convert the float Keras U-Net to TFLite: float32, float16, dynamic-range and full-integer int8.

    python -m convert --model models/unet_float.keras --data-root ../shared/data/isic2018 \
        --split models/split.json --out build/tflite
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from convert.flavours import FLAVOURS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convert", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=Path("models/unet_float.keras"))
    parser.add_argument(
        "--data-root",
        type=Path,
        required=True,
        help="official-layout folder whose training images calibrate int8",
    )
    parser.add_argument(
        "--split", type=Path, help="the model's split.json: calibrate on its train ids only"
    )
    parser.add_argument("--out", type=Path, default=Path("build/tflite"))
    parser.add_argument("--flavours", nargs="+", choices=FLAVOURS, default=FLAVOURS)
    parser.add_argument(
        "--calibration-count",
        type=int,
        default=300,
        help="representative images for full-integer int8",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import keras

    from convert.export import convert
    from convert.representative import representative_dataset
    from isic.sets import select_samples

    model = keras.saving.load_model(args.model, compile=False)
    size = model.input_shape[1]
    samples = select_samples(args.data_root, "training", args.split, "train")
    representative = representative_dataset(samples, size, args.calibration_count, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"[convert] {args.model} ({size} px) -> {', '.join(args.flavours)}", flush=True)
    start = time.perf_counter()
    for flavour, data in convert(model, args.flavours, representative):
        path = args.out / f"unet_{flavour}.tflite"
        path.write_bytes(data)
        elapsed, start = time.perf_counter() - start, time.perf_counter()
        print(f"[convert] {flavour}: {path} {len(data):,} bytes ({elapsed:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

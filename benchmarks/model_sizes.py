"""Benchmark: inference latency and file size of the U-Net by input size and width, as deployed
(full-integer int8 in LiteRT), to choose the model's size from measured figures.

    python -m benchmarks.model_sizes [--sizes 128 160 192 256] [--bases 16 32] [--json OUT]

Each model is built with random weights (latency does not depend on them), converted to int8
with real fixture images as calibration data, and timed on one input at 1 and 2 threads
(median of 50): one model call (a served prediction makes `segcore.flips.TEST_TIME_FLIPS`).
The quality of the sizes that were trained is in the model card.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.process import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "isic2018"


def measure(size: int, base: int) -> dict[str, float]:
    """Parameters, int8 file bytes and p50 latency (ms) at 1 and 2 threads."""
    from convert.export import convert
    from convert.representative import representative_dataset
    from isic.data import find_samples
    from segcore.predictor import TFLitePredictor
    from train.model import build_unet

    model = build_unet(size, base)
    calibration = representative_dataset(find_samples(FIXTURES, "training"), size, 6)
    flatbuffer = dict(convert(model, ["int8"], calibration))["int8"]
    row = {"size": size, "base_filters": base, "parameters": model.count_params()}
    row["int8_bytes"] = len(flatbuffer)
    for threads in (1, 2):
        predictor = TFLitePredictor(flatbuffer, num_threads=threads, flips=1)
        row[f"p50_ms_{threads}_thread"] = predictor.latency_ms(repeats=50)["p50_ms"]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.model_sizes", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 160, 192, 256])
    parser.add_argument("--bases", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    rows = [measure(size, base) for base in args.bases for size in args.sizes]
    print("| size | base | parameters | int8 bytes | p50 ms 1 thread | p50 ms 2 threads |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['size']} | {r['base_filters']} | {r['parameters']:,} | {r['int8_bytes']:,} | "
            f"{r['p50_ms_1_thread']:.1f} | {r['p50_ms_2_thread']:.1f} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"runtime": "litert int8", "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: the deployed TFLite path vs the float Keras model vs the seed's stack.

    python -m benchmarks.inference [--image IMAGE] [--runs 30]

Every stack segments the same full-field image end to end (shared preprocessing, inference,
mask back at the image's size), each in a fresh process so cold start and peak RSS are its own:
- deployed: models/unet.tflite in LiteRT, 2 threads (what the Lambda runs);
- keras: models/unet_float.keras under TensorFlow;
- seed: a standard 64-filter U-Net at 256 px (about 31 M parameters, random weights) under
  TensorFlow Keras, as the seed project served it.
Prints a table (and --json writes the figures); ratios are against the seed stack. Each stack's
figures say how many U-Net passes one image costs it (mirrors x input scales), so a speed change
can be told apart from a change in the work done.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.process import ROOT, Figures, peak_rss_mb, run_worker
from segcore.paths import DEPLOYED_MODEL
from segcore.timing import latency_ms

DEFAULT_IMAGE = ROOT / "tests" / "fixtures" / "samples" / "ISIC_0000012.jpg"
STACKS = ("deployed", "keras", "seed")


def _load_stack(
    stack: str, model_path: Path
) -> tuple[Callable[[np.ndarray], np.ndarray], int, int]:
    """Import the stack's runtime and load its model; return (segment function, model bytes,
    U-Net passes per image)."""
    from segcore.decoding import Decoded
    from segcore.processing import postprocess, preprocess

    if stack == "deployed":
        from segcore.predictor import TFLitePredictor

        predictor = TFLitePredictor(model_path, num_threads=2)

        def serve(image: np.ndarray) -> np.ndarray:
            height, width = image.shape[:2]
            return np.asarray(predictor.segment(Decoded(image, width, height), False).mask)

        return serve, model_path.stat().st_size, predictor.unet_passes
    import keras

    from train.multiscale import input_scales

    model = keras.saving.load_model(model_path, compile=False)
    size = model.input_shape[1]

    def segment(image: np.ndarray) -> np.ndarray:
        x = preprocess(image, size)[None].astype(np.float32)
        probabilities = np.asarray(model(x, training=False))[0, ..., 0]
        return postprocess(probabilities, *image.shape[:2])

    return segment, model_path.stat().st_size, input_scales(model)


def worker(stack: str, model_path: Path, image_path: Path, runs: int, spawned: float) -> Figures:
    """Measure one stack in this (fresh) process; `spawned`: the parent's clock at spawn."""
    start = time.perf_counter()
    segment, model_bytes, passes = _load_stack(stack, model_path)
    import_and_load = time.perf_counter() - start
    from PIL import Image

    from segcore.processing import to_rgb_array

    image = to_rgb_array(Image.open(image_path))
    segment(image)
    cold_start = time.time() - spawned
    timed = latency_ms(lambda: segment(image), runs, warmup=2)
    return {
        "stack": stack,
        "unet_passes": passes,
        "import_and_load_s": import_and_load,
        "cold_start_s": cold_start,
        **timed,
        "peak_rss_mb": peak_rss_mb(),
        "model_bytes": model_bytes,
    }


def seed_model(path: Path) -> Path:
    """Save the seed's 64-filter, 256 px U-Net (random weights) for the seed worker to load."""
    from train.model import build_unet

    model = build_unet(256, base_filters=64, depth=4)
    model.save(path)
    return path


def measure(stack: str, model: Path, image: Path, runs: int) -> Figures:
    """One stack's figures, measured in a fresh process."""
    args = ["--stack", stack, "--model", str(model), "--image", str(image), "--runs", str(runs)]
    return run_worker("benchmarks.inference", args)


def table(results: list[Figures]) -> str:
    seed = next(r for r in results if r["stack"] == "seed")
    lines = [
        f"Measured {seed.get('measured', 'on an unrecorded day')} on {seed.get('cores', '?')}"
        " cores, all stacks in one run.",
        "",
        "| stack | U-Net passes | p50 ms | p95 ms | import + load s | cold start s | peak RSS MB |"
        " model bytes | p50 speed-up vs seed | cold-start speed-up | RSS ratio |",
        "| --- " * 11 + "|",
    ]
    for r in results:
        lines.append(
            f"| {r['stack']} | {r['unet_passes']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{r['import_and_load_s']:.2f} | {r['cold_start_s']:.2f} | {r['peak_rss_mb']:.0f} | "
            f"{r['model_bytes']:,} | {seed['p50_ms'] / r['p50_ms']:.1f}x | "
            f"{seed['cold_start_s'] / r['cold_start_s']:.1f}x | "
            f"{r['peak_rss_mb'] / seed['peak_rss_mb']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.inference", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--deployed", type=Path, default=DEPLOYED_MODEL)
    parser.add_argument("--keras", type=Path, default=ROOT / "models" / "unet_float.keras")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--table", type=Path, help="print a committed run's JSON as the table (the model card's)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stack", choices=STACKS, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.stack, args.model, args.image, args.runs, args.spawned)))
        return 0
    if args.table:
        print(table(json.loads(args.table.read_text())))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        seed = seed_model(Path(tmp) / "seed_unet64_256.keras")
        results = [
            measure("deployed", args.deployed, args.image, args.runs),
            measure("keras", args.keras, args.image, args.runs),
            measure("seed", seed, args.image, max(5, args.runs // 3)),
        ]
    measured = time.strftime("%Y-%m-%d", time.gmtime())
    results = [{**r, "measured": measured, "cores": os.cpu_count()} for r in results]
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

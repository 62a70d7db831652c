"""Run a .tflite model on saved inputs with a given runtime (for checks from another Python).

    python -m convert.probe MODEL.tflite INPUTS.npy OUTPUTS.npy --runtime tflite-runtime

Exits 0, writes the probability maps and prints the runtime, its version and the median latency
of its first input at 2 threads; or exits 1 printing why the model does not run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from segcore.predictor import RUNTIMES, TFLitePredictor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convert.probe", description=__doc__)
    parser.add_argument("model", type=Path)
    parser.add_argument("inputs", type=Path, help=".npy of (N, S, S, 3) uint8 model inputs")
    parser.add_argument("outputs", type=Path, help=".npy to write (N, S, S) probabilities to")
    parser.add_argument("--runtime", choices=sorted(RUNTIMES), default="litert")
    parser.add_argument("--repeats", type=int, default=30, help="timed runs of one input")
    args = parser.parse_args(argv)
    try:
        predictor = TFLitePredictor(args.model, runtime=args.runtime, num_threads=2)
        inputs = np.load(args.inputs)
        np.save(args.outputs, predictor.predict(inputs))
        latency = predictor.latency_ms(inputs[:1], args.repeats, warmup=0)
    except Exception as error:  # report any runtime failure to the calling process
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}), file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "runtime": predictor.runtime.name,
                "version": predictor.runtime.version,
                "p50_ms_2_threads": latency["p50_ms"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark the Lambda handler end to end: a REST API (v1) event, stage prefix included, as the
deployed API sends it, with a 1024x768 JPEG upload.

    python -m benchmarks.handler [--runs 50] [--model models/unet.tflite] [--json PATH]

Runs in a fresh process and prints: import + model load time, cold start (process start to the
first segmentation answered), warm p50/p95 latency, and peak RSS. Goals: p50 <= 60 ms,
import + load <= 0.3 s, peak RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

from benchmarks.process import ROOT, Figures, add_worker_arguments, peak_rss_mb, run_worker
from benchmarks.provenance import stamp
from segcore.paths import DEPLOYED_MODEL
from segcore.timing import latency_ms

if TYPE_CHECKING:
    from mangum.types import LambdaContext

GOALS = {"p50_ms": 60.0, "import_and_load_s": 0.3, "peak_rss_mb": 150.0}


def worker(runs: int, spawned: float) -> Figures:
    """Measure in this fresh process (`spawned`: the parent's clock when it spawned us)."""
    import io

    from devtools.events import event, multipart

    t0 = time.perf_counter()
    from lesion_api.handler import handler

    import_and_load = time.perf_counter() - t0
    from PIL import Image

    image = Image.open(ROOT / "tests/fixtures/samples/ISIC_0000012.jpg").resize((1024, 768))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    content_type, body = multipart(buffer.getvalue(), "x.jpg")
    request = event("v1", "POST", "/v1/segment", body, {"content-type": content_type})
    context = cast("LambdaContext", None)  # Mangum passes it on; the app never reads it
    first = handler(request, context)
    cold = time.time() - spawned
    assert first["statusCode"] == 200, first["body"][:300]

    def answer() -> None:
        assert handler(request, context)["statusCode"] == 200

    timed = latency_ms(answer, runs)
    return {
        "model": json.loads(first["body"])["model"],
        "upload_bytes": len(buffer.getvalue()),
        "import_and_load_s": import_and_load,
        "cold_start_s": cold,
        **timed,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.handler", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--model", type=Path, default=DEPLOYED_MODEL)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "handler.json")
    add_worker_arguments(parser)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.runs, args.spawned)))
        return 0
    env = {
        **os.environ,
        "MODEL_PATH": str(args.model),
    }
    figures = run_worker("benchmarks.handler", ["--runs", str(args.runs)], env)
    print(
        f"model: {figures['model']['flavour']} {figures['model']['input_size']} px, "
        f"upload {figures['upload_bytes']:,} bytes (1024x768 JPEG)"
    )
    print("| figure | measured | goal |\n| --- | --- | --- |")
    for key in ("p50_ms", "p95_ms", "import_and_load_s", "cold_start_s", "peak_rss_mb"):
        goal = f"<= {GOALS[key]}" if key in GOALS else "-"
        print(f"| {key} | {figures[key]:.3f} | {goal} |")
    args.json.write_text(
        json.dumps(
            {
                **stamp(),
                "runs": args.runs,
                "goals": GOALS,
                **figures,
            },
            indent=1,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

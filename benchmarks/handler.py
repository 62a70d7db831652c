"""Benchmark the Lambda handler end to end: API Gateway v2 event with a 1024x768 JPEG upload.

    python -m benchmarks.handler [--runs 50] [--model models/unet.tflite]

Runs in a fresh process and prints: import + model load time, cold start (process start to the
first segmentation answered), warm p50/p95 latency, and peak RSS. Goals: p50 <= 60 ms,
import + load <= 0.3 s, peak RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.memory import peak_rss_mb

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"p50_ms": 60.0, "import_and_load_s": 0.3, "peak_rss_mb": 150.0}


def _event(body: bytes, content_type: str) -> dict:
    import base64

    template = json.loads((ROOT / "tests/fixtures/events/http_api_v2.json").read_text())
    template.update(
        body=base64.b64encode(body).decode(),
        isBase64Encoded=True,
        rawQueryString="",
        queryStringParameters={},
        cookies=[],
        headers={"content-type": content_type, "host": "api.example"},
    )
    template["rawPath"] = template["requestContext"]["http"]["path"] = "/v1/segment"
    return template


def worker(runs: int, started: float) -> dict:
    """Measure in this fresh process (`started`: the parent's clock when it spawned us)."""
    import io
    import uuid

    t0 = time.perf_counter()
    from app.handler import handler

    import_and_load = time.perf_counter() - t0
    import numpy as np
    from PIL import Image

    image = Image.open(ROOT / "tests/fixtures/samples/ISIC_0000012.jpg").resize((1024, 768))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + buffer.getvalue()
        + (f"\r\n--{boundary}--\r\n".encode())
    )
    event = _event(body, f"multipart/form-data; boundary={boundary}")
    first = handler(event, None)
    cold = time.time() - started
    assert first["statusCode"] == 200, first["body"][:300]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        reply = handler(event, None)
        times.append((time.perf_counter() - t) * 1000)
        assert reply["statusCode"] == 200
    return {
        "model": json.loads(first["body"])["model"],
        "upload_bytes": len(buffer.getvalue()),
        "import_and_load_s": import_and_load,
        "cold_start_s": cold,
        "p50_ms": float(np.median(times)),
        "p95_ms": float(np.percentile(times, 95)),
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.handler", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "unet.tflite")
    parser.add_argument("--worker", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.runs, args.worker)))
        return 0
    env = {
        **os.environ,
        "MODEL_PATH": str(args.model),
        "PYTHONPATH": f"{ROOT / 'lambda'}{os.pathsep}{ROOT}",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.handler",
            "--runs",
            str(args.runs),
            "--worker",
            repr(time.time()),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(
        f"model: {figures['model']['flavour']} {figures['model']['input_size']} px, "
        f"upload {figures['upload_bytes']:,} bytes (1024x768 JPEG)"
    )
    print("| figure | measured | goal |\n| --- | --- | --- |")
    for key in ("p50_ms", "p95_ms", "import_and_load_s", "cold_start_s", "peak_rss_mb"):
        goal = f"<= {GOALS[key]}" if key in GOALS else "-"
        print(f"| {key} | {figures[key]:.3f} | {goal} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

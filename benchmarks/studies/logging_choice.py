"""What structured logging and metrics cost at Lambda INIT: the Powertools for AWS Lambda Logger
and Metrics against this package's standard-library ones (lesion_api.logs, .metrics), each timed
in fresh processes after the imports the app makes anyway (FastAPI, pydantic, numpy, Pillow), so
only what each adds is counted. The decision in lesion_api/logs.py rests on this.

    pip install --target /tmp/powertools aws-lambda-powertools==3.37.0
    python -m benchmarks.studies.logging_choice --powertools /tmp/powertools [--runs 15]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.process import ROOT

JSON = ROOT / "benchmarks" / "studies" / "logging_choice.json"
PREAMBLE = "import fastapi, pydantic, numpy, PIL.Image, json, logging, time\n"
CANDIDATES = {
    "standard library (lesion_api.logs + lesion_api.metrics)": (
        "import lesion_api.logs, lesion_api.metrics\n"
        "lesion_api.logs.configure_logging('INFO')\n"
        "lesion_api.metrics.Metrics('api', True)\n"
    ),
    "Powertools Logger + Metrics": (
        "from aws_lambda_powertools import Logger, Metrics\n"
        "Logger(service='lesion-api')\n"
        "Metrics(namespace='LesionSegmentation', service='api')\n"
    ),
}


def added_ms(code: str, path: str | None) -> float:
    """Milliseconds `code` takes in a fresh interpreter after PREAMBLE."""
    timed = f"{PREAMBLE}t = time.perf_counter()\n{code}print((time.perf_counter() - t) * 1000)\n"
    env = {**os.environ, **({"PYTHONPATH": path} if path else {})}
    out = subprocess.run(
        [sys.executable, "-c", timed], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--powertools", type=Path, required=True, help="pip --target folder")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    figures = {}
    for name, code in CANDIDATES.items():
        path = str(args.powertools) if "Powertools" in name else None
        times = [added_ms(code, path) for _ in range(args.runs)]
        figures[name] = {"median_ms": round(statistics.median(times), 1), "runs": args.runs}
        print(f"{name}: {figures[name]['median_ms']} ms")
    info = next(args.powertools.glob("aws_lambda_powertools-*.dist-info")).name
    version = info.removeprefix("aws_lambda_powertools-").removesuffix(".dist-info")
    result = {
        "measured": datetime.date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "powertools_version": version,
        "added_at_init": figures,
    }
    JSON.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

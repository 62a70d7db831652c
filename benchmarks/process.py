"""Measuring in a fresh process: spawn a benchmark worker, read its figures, its peak memory."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
Figures = dict[str, Any]
"""A benchmark's figures, as a worker prints them (JSON)."""


def run_worker(module: str, args: list[str], env: dict[str, str] | None = None) -> Figures:
    """Run `python -m module --worker ARGS --spawned NOW` and return the JSON it prints last.

    --spawned carries the parent's clock, so the worker can time its cold start from here.
    """
    result = subprocess.run(
        [sys.executable, "-m", module, "--worker", *args, "--spawned", repr(time.time())],
        cwd=ROOT,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    figures: Figures = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """The hidden --worker / --spawned arguments that `run_worker` passes."""
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)


def peak_rss_mb() -> float:
    """VmHWM from /proc/self/status, in MB (ru_maxrss survives execve, so a child started by a
    large parent would report the parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")

"""The one latency timer: median and 95th percentile of repeated calls, in milliseconds."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def latency_ms(call: Callable[[], object], repeats: int, warmup: int = 0) -> dict[str, float]:
    """p50/p95 ms of `call()` over `repeats` timed calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95))}

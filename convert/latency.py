"""Latency of a predictor on one preprocessed input: median of repeated runs."""

from __future__ import annotations

import time

import numpy as np

from segcore.predictor import TFLitePredictor


def measure_latency(
    model: bytes, runtime: str, threads: int, repeats: int = 30, warmup: int = 3
) -> dict[str, float]:
    """p50/p95 milliseconds of `predict` on one (1, S, S, 3) input with `threads` threads."""
    predictor = TFLitePredictor(model, runtime=runtime, num_threads=threads)
    size = predictor.input_size
    batch = np.random.default_rng(0).integers(0, 256, (1, size, size, 3), dtype=np.uint8)
    for _ in range(warmup):
        predictor.predict(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predictor.predict(batch)
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95))}

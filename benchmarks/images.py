"""Benchmark inputs made from the committed real sample (no dataset needed)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from benchmarks.process import ROOT

SAMPLE = ROOT / "tests" / "fixtures" / "samples" / "ISIC_0000012.jpg"


def noisy_jpeg(width: int, height: int) -> bytes:
    """The real 1022x767 lesion resized to width x height, with sensor-like noise so the JPEG
    weighs what a camera's does (4000x3000: about 2.5 MB), quality 90."""
    image = Image.open(SAMPLE).convert("RGB")
    pixels = np.asarray(image.resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
    noise = np.random.default_rng(0).normal(0, 6, pixels.shape).astype(np.int16)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8)).save(
        buffer, "JPEG", quality=90
    )
    return buffer.getvalue()

"""Representative dataset for int8 calibration: real training images, shared preprocessing."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from isic.data import Sample, load_pair
from segcore.processing import preprocess


def representative_dataset(
    samples: Sequence[Sample], size: int, count: int, seed: int = 0
) -> Callable[[], Iterator[list[np.ndarray]]]:
    """A converter-ready generator of `count` seeded-random samples as (1, S, S, 3) float32."""
    chosen = random.Random(seed).sample(list(samples), min(count, len(samples)))

    def generate() -> Iterator[list[np.ndarray]]:
        for sample in chosen:
            image, _ = load_pair(sample)
            yield [preprocess(image, size)[None].astype(np.float32)]

    return generate

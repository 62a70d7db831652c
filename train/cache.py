"""Decode and resize a set of ISIC pairs once, into arrays cached on disk (training speed)."""

from __future__ import annotations

import hashlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from isic.data import Sample, load_pair
from segcore.processing import preprocess


def resized_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """A 0/255 mask (H, W) resized exactly as images are (`preprocess`: bilinear, squashed to
    size x size), as 0..255 levels (size, size, 1), to be re-binarised at the training size."""
    return preprocess(np.repeat(mask[:, :, None], 3, axis=2), size)[:, :, :1]


def _resized_pair(job: tuple[Sample, int]) -> tuple[np.ndarray, np.ndarray]:
    sample, size = job
    image, mask = load_pair(sample)
    return preprocess(image, size), resized_mask(mask, size)


def load_resized(
    samples: list[Sample], size: int, cache_dir: Path | None, workers: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Return (images (N, size, size, 3), masks (N, size, size, 1)) as uint8, cached by content."""
    key = hashlib.sha256(
        "\n".join(
            f"{s.image_path.resolve()}:{s.image_path.stat().st_size}" for s in samples
        ).encode()
    ).hexdigest()[:16]
    path = cache_dir / f"pairs_{size}_{key}.npz" if cache_dir else None
    if path and path.exists():
        with np.load(path) as data:
            return data["images"], data["masks"]
    jobs = [(sample, size) for sample in samples]
    with ProcessPoolExecutor(workers) as pool:
        pairs = list(
            tqdm(
                pool.map(_resized_pair, jobs, chunksize=16),
                total=len(jobs),
                desc=f"decode+resize to {size}",
                unit="img",
            )
        )
    images = np.stack([p[0] for p in pairs])
    masks = np.stack([p[1] for p in pairs])
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, images=images, masks=masks)
    return images, masks

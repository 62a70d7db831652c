"""Reader for the official ISIC 2018 Task 1 folder layout (numpy + Pillow, no TensorFlow)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from segcore.processing import binary, to_rgb_array

SUBSETS = {
    "training": ("ISIC2018_Task1-2_Training_Input", "ISIC2018_Task1_Training_GroundTruth"),
    "validation": ("ISIC2018_Task1-2_Validation_Input", "ISIC2018_Task1_Validation_GroundTruth"),
}


class DatasetError(ValueError):
    """A dataset file is missing, unreadable or inconsistent with its pair."""


@dataclass(frozen=True)
class Sample:
    """One image/mask pair of the official layout."""

    image_id: str
    image_path: Path
    mask_path: Path


def find_samples(root: Path | str, subset: str = "training") -> list[Sample]:
    """List the pairs under `root` (a folder with the official sub-folders), sorted by id.

    Every image must have its mask: a missing one is an error naming the file.
    """
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {sorted(SUBSETS)}, got {subset!r}")
    image_dir, mask_dir = (Path(root) / name for name in SUBSETS[subset])
    for folder in (image_dir, mask_dir):
        if not folder.is_dir():
            raise DatasetError(f"missing folder: {folder}")
    samples = []
    for image_path in sorted(image_dir.glob("ISIC_*.jpg")):
        mask_path = mask_dir / f"{image_path.stem}_segmentation.png"
        if not mask_path.is_file():
            raise DatasetError(f"missing mask for {image_path.name}: {mask_path}")
        samples.append(Sample(image_path.stem, image_path, mask_path))
    if not samples:
        raise DatasetError(f"no ISIC_*.jpg images in {image_dir}")
    return samples


def _open(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            image.load()
            return image
    except (OSError, SyntaxError) as error:  # Pillow raises these for corrupt/truncated files
        raise DatasetError(f"cannot read {path}: {error}") from error


def load_pair(sample: Sample) -> tuple[np.ndarray, np.ndarray]:
    """Read (RGB uint8 image (H, W, 3), 0/255 uint8 mask (H, W)); sizes must match."""
    image = to_rgb_array(_open(sample.image_path))
    mask = np.asarray(_open(sample.mask_path).convert("L"), dtype=np.uint8)
    if image.shape[:2] != mask.shape:
        raise DatasetError(
            f"size mismatch for {sample.image_id}: image {image.shape[1]}x{image.shape[0]}, "
            f"mask {mask.shape[1]}x{mask.shape[0]} ({sample.mask_path})"
        )
    return image, np.where(binary(mask), 255, 0).astype(np.uint8)


def split_ids(ids: list[str], holdout_fraction: float, seed: int) -> dict[str, list[str]]:
    """Seeded split of ids into 'train' and 'holdout' (for model selection), both sorted."""
    if not 0 < holdout_fraction < 1:
        raise ValueError("holdout_fraction must be in (0, 1)")
    shuffled = sorted(ids)
    random.Random(seed).shuffle(shuffled)
    n_holdout = max(1, round(len(ids) * holdout_fraction))
    return {"train": sorted(shuffled[n_holdout:]), "holdout": sorted(shuffled[:n_holdout])}


def save_split(split: dict[str, list[str]], path: Path, seed: int) -> None:
    """Record a split as JSON, with the seed that made it."""
    path.write_text(json.dumps({"seed": seed, **split}, indent=1) + "\n")


def load_split(path: Path) -> dict[str, list[str]]:
    """Read a split written by save_split."""
    data = json.loads(Path(path).read_text())
    return {"train": data["train"], "holdout": data["holdout"]}

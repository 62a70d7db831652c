"""Where training pairs come from: ISIC-layout folders (decoded once into a cache) or data packs
(`train.pack`, for a machine without the dataset, such as a GPU machine)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from isic import data
from isic.data import Sample
from segcore.processing import preprocess
from train.cache import load_resized, resized_mask
from train.pack import read_pack


@dataclass
class TrainingData:
    """Training pairs (uint8, any common size), held-out pairs at the model size, the split,
    and, when read from folders, the held-out samples of each folder for native scoring."""

    train_x: np.ndarray
    train_y: np.ndarray
    hold_x: np.ndarray
    hold_y: np.ndarray
    split: dict[str, list[str]]
    holdout_samples: dict[str, list[Sample]] = field(default_factory=dict)


def cache_size(size: int) -> int:
    """Training pairs are kept a third larger than the model input, so zoom-in keeps detail."""
    return round(size * 4 / 3 / 16) * 16


def from_folders(
    roots: list[Path],
    split: dict[str, list[str]],
    size: int,
    cache_dir: Path | None,
) -> TrainingData:
    """Every root's pairs of the split's ids (each root an ISIC layout holding those ids)."""
    train, hold, holdout_samples = [], [], {}
    for root in roots:
        by_id = {s.image_id: s for s in data.find_samples(root, "training")}
        missing = [i for i in split["train"] + split["holdout"] if i not in by_id]
        if missing:
            raise ValueError(f"{len(missing)} split ids not in {root}, e.g. {missing[0]}")
        train.append(load_resized([by_id[i] for i in split["train"]], cache_size(size), cache_dir))
        holdout_samples[root.name] = [by_id[i] for i in split["holdout"]]
        hold.append(load_resized(holdout_samples[root.name], size, cache_dir))
    return TrainingData(
        np.concatenate([x for x, _ in train]),
        np.concatenate([y for _, y in train]),
        np.concatenate([x for x, _ in hold]),
        np.concatenate([y for _, y in hold]),
        split,
        holdout_samples,
    )


def from_packs(train_pack: Path, holdout_pack: Path, size: int) -> TrainingData:
    """The pairs of a training pack and a held-out pack (resized to the model size)."""
    train = read_pack(train_pack)
    hold = read_pack(holdout_pack)
    overlap = {p.image_id for p in train} & {p.image_id for p in hold}
    if overlap:
        raise ValueError(f"{len(overlap)} ids are in both packs, e.g. {sorted(overlap)[0]}")
    hold_x = np.stack([preprocess(p.image, size) for p in hold])
    hold_y = np.stack([resized_mask(p.mask, size) for p in hold])
    return TrainingData(
        np.stack([p.image for p in train]),
        np.stack([p.mask[..., None] for p in train]),
        hold_x,
        hold_y,
        {
            "train": sorted({p.image_id for p in train}),
            "holdout": sorted({p.image_id for p in hold}),
        },
    )

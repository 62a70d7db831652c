"""The evaluation sets: all pairs of a subset or one part of a recorded split, and the three
standard sets every model is reported on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from isic.data import Sample, find_samples, load_split


def select_samples(data_root: Path, subset: str, split: Path | None, part: str) -> list[Sample]:
    """All pairs of a subset, or only the ids of one part of a recorded split."""
    samples = find_samples(data_root, subset)
    if split is None:
        return samples
    wanted = set(load_split(split)[part])
    chosen = [s for s in samples if s.image_id in wanted]
    if len(chosen) != len(wanted):
        raise ValueError(f"{len(wanted) - len(chosen)} ids of {split}:{part} not in {data_root}")
    return chosen


@dataclass(frozen=True)
class EvalSet:
    """A named evaluation set in the official layout."""

    name: str
    root: Path
    subset: str
    holdout_only: bool


def standard_sets(data: Path) -> list[EvalSet]:
    """Held-out training ids (square crops and full field of view) and the official validation."""
    return [
        EvalSet("holdout_crops", data / "isic2018", "training", True),
        EvalSet("holdout_fullview", data / "isic2018_fullview", "training", True),
        EvalSet("validation", data / "isic2018", "validation", False),
    ]


def standard_set_samples(data: Path, split: Path) -> dict[str, list[Sample]]:
    """The samples of each standard set: held-out ids from `split`, the whole validation."""
    return {
        eval_set.name: select_samples(
            eval_set.root, eval_set.subset, split if eval_set.holdout_only else None, "holdout"
        )
        for eval_set in standard_sets(data)
    }

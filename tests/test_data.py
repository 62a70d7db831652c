"""Reader for the official layout: pairs, clear errors, the recorded split."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from isic.data import DatasetError, find_samples, load_pair, load_split, save_split, split_ids


def test_reads_the_official_layout(isic_root: Path) -> None:
    samples = find_samples(isic_root, "training")
    assert [s.image_id for s in samples][:2] == ["ISIC_0000035", "ISIC_0000053"]
    image, mask = load_pair(samples[0])
    assert image.shape == (128, 128, 3) and mask.shape == (128, 128)
    assert set(mask.ravel().tolist()) <= {0, 255}
    assert len(find_samples(isic_root, "validation")) == 4


@pytest.fixture
def copy_root(isic_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "isic"
    shutil.copytree(isic_root, root)
    return root


def test_missing_mask_names_the_file(copy_root: Path) -> None:
    (copy_root / "ISIC2018_Task1_Training_GroundTruth/ISIC_0000053_segmentation.png").unlink()
    with pytest.raises(DatasetError, match="ISIC_0000053"):
        find_samples(copy_root, "training")


def test_unreadable_mask_names_the_file(copy_root: Path) -> None:
    mask = copy_root / "ISIC2018_Task1_Training_GroundTruth/ISIC_0000035_segmentation.png"
    mask.write_bytes(mask.read_bytes()[:40])  # truncated PNG
    with pytest.raises(DatasetError, match=r"ISIC_0000035_segmentation\.png"):
        load_pair(find_samples(copy_root, "training")[0])


def test_size_mismatch_names_the_pair(copy_root: Path) -> None:
    mask = copy_root / "ISIC2018_Task1_Training_GroundTruth/ISIC_0000035_segmentation.png"
    with Image.open(mask) as opened:
        opened.resize((64, 64)).save(mask)
    with pytest.raises(DatasetError, match="size mismatch for ISIC_0000035"):
        load_pair(find_samples(copy_root, "training")[0])


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="missing folder"):
        find_samples(tmp_path, "training")


def test_split_is_seeded_disjoint_and_recorded(tmp_path: Path) -> None:
    ids = [f"ISIC_{i:07d}" for i in range(100)]
    split = split_ids(ids, 0.1, seed=7)
    assert len(split["holdout"]) == 10 and len(split["train"]) == 90
    assert not set(split["train"]) & set(split["holdout"])
    assert split == split_ids(list(reversed(ids)), 0.1, seed=7)
    assert split != split_ids(ids, 0.1, seed=8)
    save_split(split, tmp_path / "split.json", seed=7)
    assert load_split(tmp_path / "split.json") == split

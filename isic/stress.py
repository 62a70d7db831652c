"""What the generated stress sets (`hard_cases`, `darker_skin`) share: the held-out full-field
ids they start from, the official layout they are written in, and their `make` / `score`
command line."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from isic.data import SUBSETS, Sample
from isic.sets import select_samples

JPEG_QUALITY = 92


def held_out_fullview(data: Path, split: Path) -> list[Sample]:
    """The held-out ids of `split`, in their full-field copies under `data`."""
    return select_samples(data / "isic2018_fullview", "training", split, "holdout")


def layout_folders(out: Path) -> tuple[Path, Path]:
    """Create and return the official training image and mask folders under `out`."""
    image_dir, mask_dir = (out / name for name in SUBSETS["training"])
    image_dir.mkdir(parents=True, exist_ok=True)
    mask_dir.mkdir(parents=True, exist_ok=True)
    return image_dir, mask_dir


def write_pair(
    folders: tuple[Path, Path], image_id: str, image: np.ndarray, mask: np.ndarray
) -> None:
    """Save one generated pair: the image as JPEG, the 0/255 mask as PNG."""
    image_dir, mask_dir = folders
    Image.fromarray(image).save(image_dir / f"{image_id}.jpg", quality=JPEG_QUALITY)
    Image.fromarray(mask).save(mask_dir / f"{image_id}_segmentation.png")


def parser(prog: str, doc: str) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The `make` / `score` command line; returns it with `make`'s parser, for extra options."""
    main = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    commands = main.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make", help="generate the set from the held-out full-field ids")
    make.add_argument("--data", type=Path, required=True, help="folder holding isic2018_fullview/")
    make.add_argument("--split", type=Path, required=True, help="the model's split.json")
    make.add_argument("--out", type=Path, required=True)
    score = commands.add_parser("score", help="score a .tflite model on a generated set")
    score.add_argument("--cases", type=Path, required=True)
    score.add_argument("--model", type=Path, required=True)
    score.add_argument("--out", type=Path, required=True)
    return main, make

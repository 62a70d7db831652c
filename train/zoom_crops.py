"""Zoomed crops for training the second look (issue 29): for every id of a split, the square
`segcore.second_look` would cut around the lesion of its full-field copy, at the resolution the
served decode gives, written in the official layout (a `--data-root` for `python -m train`).

    python -m train.zoom_crops --data ../shared/data --split models/split.json --out runs/zoom

The box is the ground truth's largest part, jittered as a first pass misplaces it (centre by up
to JITTER of its side, each side scaled within SCALE); the margin is drawn in MARGINS. Criteria:
`benchmarks/studies/zoom_finetune_criteria.md`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from isic import stress
from isic.data import Sample, find_samples, load_pair, load_split
from segcore.decoding import read_for_model
from segcore.second_look import Focus, crop_box, focus

JITTER = 0.15
SCALE = (0.85, 1.15)
MARGINS = (0.25, 1.0)
SEED = 29


def jittered_focus(mask: np.ndarray, rng: np.random.Generator) -> Focus | None:
    """The largest part of a 0/255 mask (segcore.second_look's focus), moved and resized at
    random; None when the mask is empty."""
    found = focus((mask > 0).astype(np.float32))
    if found is None:
        return None
    box_w, box_h = found.right - found.left, found.bottom - found.top
    centre_x = (found.left + found.right) / 2 + rng.uniform(-JITTER, JITTER) * box_w
    centre_y = (found.top + found.bottom) / 2 + rng.uniform(-JITTER, JITTER) * box_h
    half_w, half_h = box_w * rng.uniform(*SCALE) / 2, box_h * rng.uniform(*SCALE) / 2
    return Focus(
        left=max(0.0, centre_x - half_w),
        top=max(0.0, centre_y - half_h),
        right=min(1.0, centre_x + half_w),
        bottom=min(1.0, centre_y + half_h),
        share=found.share,
    )


def zoom_crop(
    sample: Sample, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, float]:
    """(image, 0/255 mask, margin) of one sample's crop; the whole decoded field when the mask
    is empty."""
    _, truth = load_pair(sample)
    with Image.open(sample.image_path) as image:
        pixels = read_for_model(image, size).pixels
    height, width = pixels.shape[:2]
    mask = np.asarray(Image.fromarray(truth).resize((width, height), Image.Resampling.NEAREST))
    margin = float(rng.uniform(*MARGINS))
    found = jittered_focus(mask, rng)
    if found is None:
        return pixels, mask, margin
    box = crop_box(found, width, height, margin)
    region = (slice(box.top, box.bottom), slice(box.left, box.right))
    return np.ascontiguousarray(pixels[region]), np.ascontiguousarray(mask[region]), margin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.zoom_crops", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="holds isic2018_fullview/")
    parser.add_argument("--split", type=Path, required=True, help="the model's split.json")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", type=int, default=128, help="the model's input size")
    args = parser.parse_args(argv)
    split = load_split(args.split)
    wanted = set(split["train"]) | set(split["holdout"])
    samples = [s for s in find_samples(args.data / "isic2018_fullview") if s.image_id in wanted]
    if len(samples) != len(wanted):
        parser.error(f"{len(wanted) - len(samples)} ids of {args.split} have no full-field copy")
    folders = stress.layout_folders(args.out)
    rng = np.random.default_rng(SEED)
    record = {}
    for sample in samples:
        image, mask, margin = zoom_crop(sample, args.size, rng)
        stress.write_pair(folders, sample.image_id, image, mask)
        record[sample.image_id] = {"margin": round(margin, 4), "size": list(image.shape[1::-1])}
    (args.out / "crops.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"{len(record)} crops in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

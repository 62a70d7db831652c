"""A darker-skin stress set, made only from our held-out full-field ids: a proxy, since no
labelled dermoscopy of darker skin is available. Each image is seen through an extra layer of
epidermal melanin at a few optical densities (Beer-Lambert in linear light, with melanin's
absorption falling as wavelength^-3.33: relative 0.29 / 0.51 / 1 for red / green / blue),
so skin and lesion darken and redden together and their contrast shrinks in sRGB. It is not the
training augmentation (a gamma and a brown tint). Level 0 is the same images re-encoded alone,
the baseline in the same run.

    python -m isic.darker_skin make --data ../shared/data --split models/split.json --out runs/dark
    python -m isic.darker_skin score --cases runs/dark --model models/unet.tflite --out runs/dark_ev

`score` writes the ISIC report and darker_skin.json: Dice, thresholded Jaccard and the median
skin brightness at each level.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from isic.data import SUBSETS, Sample, load_pair
from isic.sets import select_samples

MELANIN_ABSORPTION = np.array([0.29, 0.51, 1.0], np.float32)
"""Relative absorption at red, green and blue (650, 550, 450 nm) for mu_a ~ wavelength^-3.33."""
BLUE_DENSITIES = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
"""Extra optical density (natural log) at blue, per level: blue light kept 100, 37, 14, 5, 1.8
and 0.7 % (red 100, 75, 56, 42, 31 and 23 %)."""
JPEG_QUALITY = 92
Array = np.ndarray


def to_linear(srgb: Array) -> Array:
    """sRGB values 0..255 to linear light 0..1 (IEC 61966-2-1)."""
    x = srgb.astype(np.float32) / 255
    linear: Array = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    return linear


def to_srgb(linear: Array) -> Array:
    """Linear light 0..1 to sRGB uint8."""
    x = np.clip(linear, 0, 1)
    srgb = np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055)
    encoded: Array = np.round(srgb * 255).astype(np.uint8)
    return encoded


def darken(image: Array, blue_density: float) -> Array:
    """The image seen through melanin of that optical density at blue (uint8 RGB in and out)."""
    transmittance = np.exp(-blue_density * MELANIN_ABSORPTION)
    return to_srgb(to_linear(image) * transmittance)


def skin_brightness(image: Array, mask: Array) -> float:
    """Median Rec. 709 luma (0..255) of the pixels outside the lesion."""
    luma = image.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    return float(np.median(luma[mask == 0]))


def case_id(level: int, index: int) -> str:
    return f"ISIC_8{level}{index:05d}"


def make_set(samples: Sequence[Sample], out: Path) -> dict[str, dict[str, float]]:
    """Write every sample at every level in the official layout, and levels.json: each id's
    level and median skin brightness."""
    image_dir, mask_dir = (out / name for name in SUBSETS["training"])
    image_dir.mkdir(parents=True, exist_ok=True)
    mask_dir.mkdir(parents=True, exist_ok=True)
    cases = {}
    for index, sample in enumerate(samples):
        image, mask = load_pair(sample)
        for level, density in enumerate(BLUE_DENSITIES):
            image_id, darker = case_id(level, index), darken(image, density)
            Image.fromarray(darker).save(image_dir / f"{image_id}.jpg", quality=JPEG_QUALITY)
            Image.fromarray(mask).save(mask_dir / f"{image_id}_segmentation.png")
            cases[image_id] = {"level": level, "skin_luma": skin_brightness(darker, mask)}
    (out / "levels.json").write_text(json.dumps(cases, indent=1) + "\n")
    return cases


def by_level(
    cases: dict[str, dict[str, float]], per_image: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    """Per level: its density, n, mean Dice and thresholded Jaccard, median skin brightness."""
    report = {}
    for level, density in enumerate(BLUE_DENSITIES):
        ids = [image_id for image_id, case in cases.items() if case["level"] == level]
        report[str(level)] = {
            "blue_density": density,
            "n": len(ids),
            "dice": float(np.mean([per_image[i]["dice"] for i in ids])),
            "threshold_jaccard": float(np.mean([per_image[i]["threshold_jaccard"] for i in ids])),
            "skin_luma_median": float(np.median([cases[i]["skin_luma"] for i in ids])),
        }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m isic.darker_skin", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make", help="generate the set from the held-out full-field ids")
    make.add_argument("--data", type=Path, required=True, help="folder holding isic2018_fullview/")
    make.add_argument("--split", type=Path, required=True, help="the model's split.json")
    make.add_argument("--out", type=Path, required=True)
    score = commands.add_parser("score", help="score a .tflite model on a generated set")
    score.add_argument("--cases", type=Path, required=True)
    score.add_argument("--model", type=Path, required=True)
    score.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "make":
        samples = select_samples(args.data / "isic2018_fullview", "training", args.split, "holdout")
        cases = make_set(samples, args.out)
        print(f"{len(samples)} ids at {len(BLUE_DENSITIES)} levels in {args.out}")
        return 0
    from isic.scoring import score_tflite

    summary, per_image = score_tflite(args.model, args.cases, args.out)
    cases = json.loads((args.cases / "levels.json").read_text())
    report = {
        "model": args.model.name,
        "cases": f"isic.darker_skin, {len(cases) // len(BLUE_DENSITIES)} held-out full-field ids",
        "all": summary,
        "levels": by_level(cases, per_image),
    }
    (args.out / "darker_skin.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["levels"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

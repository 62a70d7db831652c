"""A darker-skin stress set, made only from our held-out full-field ids: a proxy, since no
labelled dermoscopy of darker skin is available. Each image is seen through an extra layer of
epidermal melanin at a few optical densities (Beer-Lambert in linear light, with melanin's
absorption falling as wavelength^-3.33: relative 0.29 / 0.51 / 1 for red / green / blue),
so skin and lesion darken and redden together and their contrast shrinks in sRGB. It is not the
training augmentation (a gamma and a brown tint). Level 0 is the same images re-encoded alone,
the baseline in the same run.

    python -m isic.darker_skin make --data ../shared/data --split models/split.json --out runs/dark
    python -m isic.darker_skin score --cases runs/dark --model models/unet.tflite \
        --out runs/dark_eval

`score` writes the ISIC report and darker_skin.json: Dice, thresholded Jaccard and the median
skin brightness at each level.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

import numpy as np

from isic import stress
from isic.data import Sample, load_pair
from segcore.metrics import macro_average

MELANIN_ABSORPTION = np.array([0.29, 0.51, 1.0], np.float32)
"""Relative absorption at red, green and blue (650, 550, 450 nm) for mu_a ~ wavelength^-3.33."""
BLUE_DENSITIES = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
"""Extra optical density (natural log) at blue, per level: blue light kept 100, 37, 14, 5, 1.8
and 0.7 % (red 100, 75, 56, 42, 31 and 23 %)."""
Array = np.ndarray


class Case(TypedDict):
    """One generated image: its source id, level, added density and median skin brightness."""

    source_id: str
    level: int
    blue_density: float
    skin_luma: float


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
    """Median Rec. 709 luma (0..255) of the pixels outside the lesion (of all, if none are)."""
    luma = image.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    skin = mask == 0
    return float(np.median(luma[skin] if skin.any() else luma))


def case_id(level: int, index: int) -> str:
    """ISIC_8, the level's digit, the source's index in five digits."""
    return f"ISIC_8{level}{index:05d}"


def make_set(samples: Sequence[Sample], out: Path) -> dict[str, Case]:
    """Write every sample at every level in the official layout, and levels.json."""
    folders = stress.layout_folders(out)
    cases = {}
    for index, sample in enumerate(samples):
        image, mask = load_pair(sample)
        for level, density in enumerate(BLUE_DENSITIES):
            image_id, darker = case_id(level, index), darken(image, density)
            stress.write_pair(folders, image_id, darker, mask)
            cases[image_id] = Case(
                source_id=sample.image_id,
                level=level,
                blue_density=density,
                skin_luma=skin_brightness(darker, mask),
            )
    (out / "levels.json").write_text(json.dumps(cases, indent=1) + "\n")
    return cases


def by_level(
    cases: dict[str, Case], per_image: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    """Per level found in the set: its density, n, mean Dice and thresholded Jaccard, and the
    median skin brightness."""
    report = {}
    for level in sorted({case["level"] for case in cases.values()}):
        ids = [image_id for image_id, case in cases.items() if case["level"] == level]
        means = macro_average([per_image[i] for i in ids])
        report[str(level)] = {
            "blue_density": cases[ids[0]]["blue_density"],
            "n": means["n"],
            "dice": means["dice"],
            "threshold_jaccard": means["threshold_jaccard"],
            "skin_luma_median": float(np.median([cases[i]["skin_luma"] for i in ids])),
        }
    return report


def main(argv: list[str] | None = None) -> int:
    parser, _ = stress.parser("python -m isic.darker_skin", __doc__)
    args = parser.parse_args(argv)
    if args.command == "make":
        samples = stress.held_out_fullview(args.data, args.split)
        make_set(samples, args.out)
        print(f"{len(samples)} ids at {len(BLUE_DENSITIES)} levels in {args.out}")
        return 0
    from isic.scoring import score_tflite

    summary, per_image = score_tflite(args.model, args.cases, args.out)
    cases: dict[str, Case] = json.loads((args.cases / "levels.json").read_text())
    sources = {case["source_id"] for case in cases.values()}
    report = {
        "model": args.model.name,
        "cases": f"isic.darker_skin, {len(sources)} held-out full-field ids",
        "all": summary,
        "levels": by_level(cases, per_image),
    }
    (args.out / "darker_skin.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["levels"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

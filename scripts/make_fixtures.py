"""Copy a few real ISIC 2018 pairs, shrunk, into tests/fixtures (run once; output is committed).

python scripts/make_fixtures.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from PIL import Image

from isic.data import SUBSETS

# Held-out ids of the committed model's split (never trained on).
TRAINING_IDS = [
    "ISIC_0000035",
    "ISIC_0000053",
    "ISIC_0000056",
    "ISIC_0000099",
    "ISIC_0000126",
    "ISIC_0000127",
]
VALIDATION_COUNT = 4
SAMPLE_ID = "ISIC_0000012"  # a near-native 1022x767 full-field image, for demos


def copy_pair(
    src: Path, dst: Path, subset: str, image_id: str, size: tuple[int, int] | None
) -> None:
    image_dir, mask_dir = SUBSETS[subset]
    for folder, name, resample in (
        (image_dir, f"{image_id}.jpg", Image.Resampling.BILINEAR),
        (mask_dir, f"{image_id}_segmentation.png", Image.Resampling.NEAREST),
    ):
        out = dst / folder / name
        out.parent.mkdir(parents=True, exist_ok=True)
        image: Image.Image = Image.open(src / folder / name)
        if size is not None:
            image = image.resize(size, resample)
        image.save(out, quality=90) if name.endswith(".jpg") else image.save(out, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures"))
    args = parser.parse_args()
    crops, full = args.data / "isic2018", args.data / "isic2018_fullview"
    for image_id in TRAINING_IDS:
        copy_pair(crops, args.out / "isic2018", "training", image_id, (128, 128))
        copy_pair(full, args.out / "isic2018_fullview", "training", image_id, None)
    val_ids = sorted(p.stem for p in (crops / SUBSETS["validation"][0]).glob("ISIC_*.jpg"))
    for image_id in val_ids[:VALIDATION_COUNT]:
        copy_pair(crops, args.out / "isic2018", "validation", image_id, None)
    samples = args.out / "samples"
    samples.mkdir(parents=True, exist_ok=True)
    shutil.copy(full / SUBSETS["training"][0] / f"{SAMPLE_ID}.jpg", samples)


if __name__ == "__main__":
    main()

"""Pack ISIC pairs into one small file that travels (to a GPU machine, say): images as JPEG,
masks as PNG, at the model size, in a .npz that needs no pickle to read.

    python -m train.pack --data ../shared/data --split models/split.json --size 256 \
        --out build/pack_256.npz

Packs the split's training ids from every ISIC-layout folder given (by default the 512 px crops
`isic2018/` and their full-field copies `isic2018_fullview/`); any ISIC-layout folder works, e.g.
the full-resolution archive. `read_pack` gives the pairs back as arrays.
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from isic.data import Sample, load_pair
from isic.sets import select_samples
from segcore.processing import binary, preprocess
from train.cache import resized_mask


@dataclass(frozen=True)
class Packed:
    """One pair as packed: its id, which folder it came from, image and 0/255 mask."""

    image_id: str
    source: str
    image: np.ndarray
    mask: np.ndarray


def _encode(array: np.ndarray, fmt: str, **options: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _blob(parts: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated bytes and the offsets that cut them apart again."""
    offsets = np.cumsum([0, *(len(p) for p in parts)]).astype(np.int64)
    return np.frombuffer(b"".join(parts), dtype=np.uint8), offsets


def write_pack(
    sources: Mapping[str, Sequence[Sample]], size: int, path: Path, quality: int = 80
) -> int:
    """Write every sample of every source at size x size; return how many pairs."""
    ids, names, images, masks = [], [], [], []
    for source, samples in sources.items():
        for sample in samples:
            image, mask = load_pair(sample)
            levels = resized_mask(mask, size)[..., 0]
            ids.append(sample.image_id)
            names.append(source)
            images.append(_encode(preprocess(image, size), "JPEG", quality=quality))
            masks.append(_encode(np.where(binary(levels), 255, 0).astype(np.uint8), "PNG"))
    image_blob, image_offsets = _blob(images)
    mask_blob, mask_offsets = _blob(masks)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        ids=np.array(ids),
        sources=np.array(names),
        size=np.array(size),
        images=image_blob,
        image_offsets=image_offsets,
        masks=mask_blob,
        mask_offsets=mask_offsets,
    )
    return len(ids)


def read_pack(path: Path) -> list[Packed]:
    """The pairs of a pack, decoded."""
    with np.load(path, allow_pickle=False) as pack:
        images, image_offsets = pack["images"], pack["image_offsets"]
        masks, mask_offsets = pack["masks"], pack["mask_offsets"]
        pairs = []
        for i, (image_id, source) in enumerate(zip(pack["ids"], pack["sources"], strict=True)):
            image = images[image_offsets[i] : image_offsets[i + 1]].tobytes()
            mask = masks[mask_offsets[i] : mask_offsets[i + 1]].tobytes()
            pairs.append(
                Packed(
                    str(image_id),
                    str(source),
                    np.asarray(Image.open(io.BytesIO(image)).convert("RGB")),
                    np.asarray(Image.open(io.BytesIO(mask)).convert("L")),
                )
            )
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m train.pack", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, required=True, help="folder holding the ISIC folders")
    parser.add_argument(
        "--folders",
        nargs="+",
        default=["isic2018", "isic2018_fullview"],
        help="ISIC-layout folders under --data to pack",
    )
    parser.add_argument("--split", type=Path, help="pack only this split's --part ids")
    parser.add_argument("--part", choices=["train", "holdout"], default="train")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--quality", type=int, default=80, help="JPEG quality of the images")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    sources = {
        folder: select_samples(args.data / folder, "training", args.split, args.part)
        for folder in args.folders
    }
    count = write_pack(sources, args.size, args.out, args.quality)
    print(f"{count} pairs at {args.size} px: {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

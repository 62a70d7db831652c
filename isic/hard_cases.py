"""The hard-cases evaluation set, made only from our own held-out ids: each held-out full-field
image is zoomed out so its lesion covers 1-5 % of the field, on skin of its own colour, and gets
the distractors that fool the model in real-world dermoscopy (an ink ring, gel bubbles with
specular highlights, fabric at an edge, hair, ruler marks, the dermoscope's vignette); a third of
the lesions are also made faint (contrast pulled toward the skin). Seeded and deterministic; the
seeds and parameters are not the training augmentation's.

    python -m isic.hard_cases make --data ../shared/data --split models/split.json --out runs/hard
    python -m isic.hard_cases score --cases runs/hard --model models/unet.tflite --out runs/hard_ev

`make` writes the official layout (so every evaluation tool reads it) plus cases.json; `score`
writes the ISIC report (per_image.csv, summary.json, best_worst.png) and hard_cases.json: the
summary with Dice per lesion-size bin, per distractor and for faint lesions (`make hard-cases`
copies it and the grid into models/).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from isic import stress
from isic.data import Sample, load_pair

DISTRACTORS = ("ink_ring", "bubbles", "fabric", "hair", "ruler", "vignette")
SIZE_BINS = ((0.01, 0.02), (0.02, 0.035), (0.035, 0.05))
SEED = 20_181_127  # not a training seed
Array = np.ndarray


@dataclass(frozen=True)
class Case:
    """One generated image: its source, how small its lesion is, what was added."""

    image_id: str
    source_id: str
    lesion_fraction: float
    size_bin: str
    distractors: tuple[str, ...]
    faint: bool


def bin_name(low: float, high: float) -> str:
    return f"{low:.1%}-{high:.1%}"


def _skin(image: Array, lesion: Array) -> Array:
    """The median colour of the skin around the lesion."""
    skin = image[~lesion] if (~lesion).any() else image.reshape(-1, 3)
    colour: Array = np.median(skin, axis=0)
    return colour


def _skin_canvas(height: int, width: int, colour: Array, rng: np.random.Generator) -> Array:
    """Skin of one colour with a soft, low-frequency texture."""
    noise = rng.normal(0, 1, (max(2, height // 16), max(2, width // 16), 3))
    smooth = np.asarray(
        Image.fromarray(np.clip(noise * 40 + 128, 0, 255).astype(np.uint8)).resize(
            (width, height), Image.Resampling.BICUBIC
        ),
        dtype=np.float32,
    )
    canvas: Array = np.clip(colour + (smooth - 128) * 0.12, 0, 255)
    return canvas


def zoom_out(
    image: Array, mask: Array, fraction: float, rng: np.random.Generator
) -> tuple[Array, Array]:
    """The image shrunk and set on skin so the lesion covers `fraction` of the field."""
    height, width = mask.shape
    lesion = mask > 0
    scale = min(1.0, float(np.sqrt(fraction / max(lesion.mean(), 1e-6))))
    small_w, small_h = max(8, round(width * scale)), max(8, round(height * scale))
    small = np.asarray(
        Image.fromarray(image).resize((small_w, small_h), Image.Resampling.LANCZOS),
        dtype=np.float32,
    )
    small_mask = np.asarray(
        Image.fromarray(mask).resize((small_w, small_h), Image.Resampling.BILINEAR)
    )
    canvas = _skin_canvas(height, width, _skin(image, lesion).astype(np.float32), rng)
    top = int(rng.integers(0, height - small_h + 1))
    left = int(rng.integers(0, width - small_w + 1))
    # Feathered edges: the shrunk photo fades into the surrounding skin.
    feather = np.ones((small_h, small_w), np.float32)
    ramp = max(2, min(small_h, small_w) // 6)
    for axis, size in ((0, small_h), (1, small_w)):
        edge = np.minimum(np.arange(size), np.arange(size)[::-1]) / ramp
        shape = (size, 1) if axis == 0 else (1, size)
        feather *= np.clip(edge, 0, 1).reshape(shape)
    region = canvas[top : top + small_h, left : left + small_w]
    region[:] = region * (1 - feather[..., None]) + small * feather[..., None]
    out_mask = np.zeros((height, width), np.uint8)
    out_mask[top : top + small_h, left : left + small_w] = np.where(small_mask > 128, 255, 0)
    return np.clip(canvas, 0, 255).astype(np.uint8), out_mask


def faint(
    image: Array,
    mask: Array,
    rng: np.random.Generator,
    keep_range: tuple[float, float] = (0.35, 0.6),
) -> Array:
    """Pull the lesion's colours toward the skin around it, keeping a random share of its
    contrast from `keep_range` (a low-contrast lesion)."""
    lesion = mask > 0
    if not lesion.any():
        return image
    keep = float(rng.uniform(*keep_range))
    skin = _skin(image, lesion).astype(np.float32)
    soft = np.asarray(Image.fromarray(mask).filter(ImageFilter.GaussianBlur(2)), np.float32) / 255
    pulled = skin + (image.astype(np.float32) - skin) * keep
    weight = soft[..., None]
    return np.clip(image * (1 - weight) + pulled * weight, 0, 255).astype(np.uint8)


def _lesion_box(mask: Array) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(mask)
    return int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())


def ink_ring(draw: ImageDraw.ImageDraw, mask: Array, rng: np.random.Generator) -> None:
    left, top, right, bottom = _lesion_box(mask)
    pad = int(max(right - left, bottom - top) * rng.uniform(0.5, 1.0)) + 4
    colour = tuple(int(c) for c in rng.choice([(60, 40, 110), (30, 30, 40), (20, 60, 120)]))
    width = max(2, mask.shape[1] // 90)
    draw.ellipse([left - pad, top - pad, right + pad, bottom + pad], outline=colour, width=width)


def bubbles(draw: ImageDraw.ImageDraw, mask: Array, rng: np.random.Generator) -> None:
    height, width = mask.shape
    for _ in range(int(rng.integers(3, 9))):
        r = int(rng.integers(max(3, width // 60), max(5, width // 12)))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        draw.ellipse([x - r, y - r, x + r, y + r], outline=(235, 235, 235), width=1)
        h = max(1, r // 4)  # the specular highlight
        draw.ellipse(
            [x - r // 2 - h, y - r // 2 - h, x - r // 2 + h, y - r // 2 + h], fill=(255,) * 3
        )


def fabric(draw: ImageDraw.ImageDraw, mask: Array, rng: np.random.Generator) -> None:
    """A textured band along the edge farthest from the lesion."""
    height, width = mask.shape
    left, top, right, bottom = _lesion_box(mask)
    gaps = {"top": top, "bottom": height - bottom, "left": left, "right": width - right}
    side = max(gaps, key=lambda k: gaps[k])
    depth = max(4, int(gaps[side] * rng.uniform(0.3, 0.6)))
    base = tuple(int(c) for c in rng.integers(20, 235, 3))
    box = {
        "top": (0, 0, width, depth),
        "bottom": (0, height - depth, width, height),
        "left": (0, 0, depth, height),
        "right": (width - depth, 0, width, height),
    }[side]
    draw.rectangle(box, fill=base)
    stripe = max(2, width // 80)
    dark = tuple(max(0, c - 40) for c in base)
    x0, y0, x1, y1 = box
    # 45-degree stripes, each cut to the band: the point (x0 + offset - t, y0 + t) is inside
    # for t from max(0, offset - band width) to min(band height, offset).
    for offset in range(0, (x1 - x0) + (y1 - y0), stripe * 2):
        start, end = max(0, offset - (x1 - x0)), min(y1 - y0, offset)
        if start < end:
            draw.line(
                [(x0 + offset - start, y0 + start), (x0 + offset - end, y0 + end)],
                fill=dark,
                width=stripe,
            )


def hair(draw: ImageDraw.ImageDraw, mask: Array, rng: np.random.Generator) -> None:
    height, width = mask.shape
    for _ in range(int(rng.integers(4, 14))):
        x, y = float(rng.uniform(0, width)), float(rng.uniform(0, height))
        angle = float(rng.uniform(0, np.pi))
        points = []
        for _ in range(12):
            points.append((x, y))
            angle += float(rng.normal(0, 0.15))
            x += np.cos(angle) * width / 30
            y += np.sin(angle) * width / 30
        draw.line(points, fill=(int(rng.integers(10, 60)),) * 3, width=max(1, width // 250))


def ruler(draw: ImageDraw.ImageDraw, mask: Array, rng: np.random.Generator) -> None:
    height, width = mask.shape
    band = max(6, height // 14)
    y0 = 0 if rng.random() < 0.5 else height - band
    draw.rectangle([0, y0, width, y0 + band], fill=(235, 235, 225))
    step = max(3, width // 60)
    for i, x in enumerate(range(0, width, step)):
        tick = band if i % 10 == 0 else band // 2
        draw.line([(x, y0), (x, y0 + tick)], fill=(20, 20, 20), width=1)


def vignette(image: Array, rng: np.random.Generator) -> Array:
    height, width = image.shape[:2]
    y, x = np.mgrid[0:height, 0:width]
    r = np.hypot((x - width / 2) / (width / 2), (y - height / 2) / (height / 2))
    start = float(rng.uniform(0.75, 0.95))
    dark = np.clip((r - start) / 0.25, 0, 1)[..., None]
    vignetted: Array = (image * (1 - dark)).astype(np.uint8)
    return vignetted


DRAWN: dict[str, Callable[[ImageDraw.ImageDraw, Array, np.random.Generator], None]] = {
    "ink_ring": ink_ring,
    "bubbles": bubbles,
    "fabric": fabric,
    "hair": hair,
    "ruler": ruler,
}


def make_case(
    image: Array, mask: Array, index: int, seed: int = SEED
) -> tuple[Array, Array, tuple[str, ...], bool, str]:
    """The hard version of one pair, decided by (seed, index): image, mask, what was added."""
    rng = np.random.default_rng([seed, index])
    low, high = SIZE_BINS[index % len(SIZE_BINS)]
    small, small_mask = zoom_out(image, mask, float(rng.uniform(low, high)), rng)
    # Size bin, first distractor and faintness cycle independently (not confounded).
    first = DISTRACTORS[(index // len(SIZE_BINS)) % len(DISTRACTORS)]
    second = DISTRACTORS[int(rng.integers(len(DISTRACTORS)))] if rng.random() < 0.5 else first
    added = tuple(sorted({first, second}))
    is_faint = (index // (len(SIZE_BINS) * len(DISTRACTORS))) % 3 == 2
    if is_faint:
        small = faint(small, small_mask, rng)
    picture = Image.fromarray(small)
    draw = ImageDraw.Draw(picture)
    for name in added:
        if name in DRAWN and small_mask.any():
            DRAWN[name](draw, small_mask, rng)
    out = np.asarray(picture)
    if "vignette" in added:
        out = vignette(out, rng)
    return out, small_mask, added, is_faint, bin_name(low, high)


def make_set(samples: Sequence[Sample], out: Path, seed: int = SEED) -> list[Case]:
    """Write the hard version of every sample in the official layout, and cases.json."""
    folders = stress.layout_folders(out)
    cases = []
    for index, sample in enumerate(samples):
        image, mask = load_pair(sample)
        hard, hard_mask, added, is_faint, size_bin = make_case(image, mask, index, seed)
        image_id = f"ISIC_9{index:06d}"
        stress.write_pair(folders, image_id, hard, hard_mask)
        fraction = float((hard_mask > 0).mean())
        cases.append(Case(image_id, sample.image_id, fraction, size_bin, added, is_faint))
    (out / "cases.json").write_text(
        json.dumps({"seed": seed, "cases": [asdict(c) for c in cases]}, indent=1) + "\n"
    )
    return cases


def read_cases(folder: Path) -> list[Case]:
    data = json.loads((folder / "cases.json").read_text())
    return [Case(**{**c, "distractors": tuple(c["distractors"])}) for c in data["cases"]]


def by_group(cases: Sequence[Case], dice: dict[str, float]) -> dict[str, dict[str, object]]:
    """Mean Dice (and count) per lesion-size bin, per distractor, faint or not."""
    groups: dict[str, list[float]] = defaultdict(list)
    for case in cases:
        score = dice[case.image_id]
        groups[f"size {case.size_bin}"].append(score)
        groups["faint" if case.faint else "not faint"].append(score)
        for name in case.distractors:
            groups[f"distractor {name}"].append(score)
    return {
        name: {"n": len(scores), "dice": float(np.mean(scores))}
        for name, scores in sorted(groups.items())
    }


def main(argv: list[str] | None = None) -> int:
    parser, make = stress.parser("python -m isic.hard_cases", __doc__)
    make.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if args.command == "make":
        cases = make_set(stress.held_out_fullview(args.data, args.split), args.out, args.seed)
        print(f"{len(cases)} hard cases in {args.out}")
        return 0
    from isic.scoring import score_tflite

    summary, per_image = score_tflite(args.model, args.cases, args.out)
    dice = {image_id: row["dice"] for image_id, row in per_image.items()}
    seed = json.loads((args.cases / "cases.json").read_text())["seed"]
    report = {
        "model": args.model.name,
        "cases": f"isic.hard_cases, seed {seed}, {len(dice)} held-out full-field ids",
        "all": summary,
        "groups": by_group(read_cases(args.cases), dice),
    }
    (args.out / "hard_cases.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

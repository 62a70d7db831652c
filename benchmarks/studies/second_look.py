"""The second-look grid (issue 29): every trigger x margin x combination of
`benchmarks/studies/second_look_criteria.md` scored on the four evaluation sets against the
served one-look prediction, with paired bootstrap intervals, how often each triggers, and the
chosen configuration by the criteria written first.

    python -m isic.hard_cases make --data ../shared/data --split models/split.json --out runs/hard
    python -m benchmarks.studies.second_look --data ../shared/data --split models/split.json \
        --hard-cases runs/hard --out benchmarks/second_look.json
    python -m benchmarks.studies.second_look --table benchmarks/second_look.json

With `--reference models/unet.tflite`, a fine-tuned `--model` does both looks and is scored
against the deployed file's one look (`benchmarks/studies/zoom_finetune_criteria.md`).

Every figure is the served path (segcore): decoded and resized as the API does, the first map
on the whole field, the crop taken from the same decoded pixels, the combined map upsampled to
the ground truth and thresholded.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.provenance import stamp
from benchmarks.studies.ladder import SET_NAMES, compared, delta_text
from isic.data import Sample, find_samples, load_pair
from isic.sets import standard_set_samples
from segcore.decoding import read_for_model
from segcore.metrics import score_pair
from segcore.paths import DEPLOYED_MODEL
from segcore.predictor import TFLitePredictor
from segcore.processing import mask_image, preprocess
from segcore.second_look import Combination, Look, Policy, combined_image, second_look

TRIGGERS = (0.05, 0.10, 0.20)
MARGINS = (0.25, 0.5, 1.0)
COMBINATIONS: tuple[Combination, ...] = ("replace", "mean")
MAX_LOSS = 0.002
TIE = 0.001
MIN_GAIN = 0.003
CHOSEN_ON = ("holdout_fullview", "hard_cases")


@dataclass
class Scored:
    """One image of a set: its ground truth, decoded pixels and first map."""

    truth: np.ndarray
    pixels: np.ndarray
    first: np.ndarray


def load_set(samples: list[Sample], predictor: TFLitePredictor) -> list[Scored]:
    size = predictor.input_size
    items = []
    for sample in samples:
        _, truth = load_pair(sample)
        with Image.open(sample.image_path) as image:
            pixels = read_for_model(image, size).pixels
        first = predictor.predict(preprocess(pixels, size)[None])[0]
        items.append(Scored(truth, pixels, first))
    return items


def first_of(item: Scored, predictor: TFLitePredictor) -> Scored:
    """The same decoded image with another model's first map."""
    size = predictor.input_size
    return replace(item, first=predictor.predict(preprocess(item.pixels, size)[None])[0])


def dice_of(item: Scored, look: Look | None, combination: Combination) -> float:
    height, width = item.truth.shape
    decoded = (item.pixels.shape[1], item.pixels.shape[0])
    probability = combined_image(item.first, look, decoded, (width, height), combination)
    return score_pair(item.truth, np.asarray(mask_image(probability)))["dice"]


def configurations() -> list[Policy]:
    return [
        Policy(trigger, margin, combination)
        for trigger, margin, combination in itertools.product(TRIGGERS, MARGINS, COMBINATIONS)
    ]


def choose(results: dict[str, Any]) -> str | None:
    """The criteria's rules 1-3 on the grid's figures: the served configuration, or None."""
    admissible = {
        name: r
        for name, r in results.items()
        if all(d["mean"] >= -MAX_LOSS for d in r["vs_one_look"].values())
    }
    if not admissible:
        return None
    score = {
        name: float(np.mean([r["dice"][s] for s in CHOSEN_ON])) for name, r in admissible.items()
    }
    best = max(score.values())
    tied = [name for name in admissible if score[name] >= best - TIE]
    chosen = min(tied, key=lambda name: (admissible[name]["triggered_share_all"], -score[name]))
    reference = float(np.mean([results[chosen]["one_look_dice"][s] for s in CHOSEN_ON]))
    return chosen if score[chosen] - reference >= MIN_GAIN else None


def name_of(policy: Policy) -> str:
    return f"trigger {policy.trigger:.0%} / margin {policy.margin} / {policy.combination}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.studies.second_look", description=__doc__
    )
    parser.add_argument("--table", type=Path, help="print a grid JSON as a Markdown table")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--split", type=Path)
    parser.add_argument("--hard-cases", type=Path, help="isic.hard_cases make's out")
    parser.add_argument("--model", type=Path, default=DEPLOYED_MODEL)
    parser.add_argument(
        "--reference",
        type=Path,
        help="score against this model's one look (default: --model's own); e.g. the deployed "
        "file, for a fine-tuned --model",
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--criteria", default="benchmarks/studies/second_look_criteria.md", help="recorded"
    )
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.table.read_text())), end="")
        return 0
    if not (args.data and args.split and args.hard_cases and args.out):
        parser.error("--data, --split, --hard-cases and --out (or --table)")
    predictor = TFLitePredictor(args.model, num_threads=2)
    sets = {
        **standard_set_samples(args.data, args.split),
        "hard_cases": find_samples(args.hard_cases, "training"),
    }
    loaded = {name: load_set(samples, predictor) for name, samples in sets.items()}
    own_look = {
        name: np.asarray([dice_of(i, None, "replace") for i in items])
        for name, items in loaded.items()
    }
    one_look = own_look
    if args.reference:
        reference = TFLitePredictor(args.reference, num_threads=2)
        if reference.input_size != predictor.input_size:
            parser.error("--reference must take the inputs --model takes (one decode serves both)")
        one_look = {
            name: np.asarray([dice_of(first_of(i, reference), None, "replace") for i in items])
            for name, items in loaded.items()
        }
    print({name: round(float(d.mean()), 4) for name, d in one_look.items()}, flush=True)
    looks: dict[tuple[float, str], list[Look | None]] = {}
    look_ms: list[float] = []
    widest = max(TRIGGERS)
    for margin in MARGINS:
        for name, items in loaded.items():
            found = []
            for item in items:
                start = time.perf_counter()
                look = second_look(
                    predictor.predict, item.pixels, item.first, Policy(widest, margin, "replace")
                )
                if look is not None:
                    look_ms.append((time.perf_counter() - start) * 1000)
                found.append(look)
            looks[margin, name] = found
    results: dict[str, Any] = {}
    for policy in configurations():
        per_set: dict[str, Any] = {}
        triggered_all = 0
        for name, items in loaded.items():
            chosen_looks = [
                look if look is not None and look.share < policy.trigger else None
                for look in looks[policy.margin, name]
            ]
            dice = np.asarray(
                [
                    dice_of(i, lk, policy.combination)
                    for i, lk in zip(items, chosen_looks, strict=True)
                ]
            )
            delta = dice - one_look[name]
            triggered = sum(lk is not None for lk in chosen_looks)
            triggered_all += triggered
            per_set[name] = {
                "dice": float(dice.mean()),
                "delta": delta,
                "triggered": triggered,
            }
        results[name_of(policy)] = {
            "policy": asdict(policy),
            "dice": {s: v["dice"] for s, v in per_set.items()},
            "one_look_dice": {s: float(one_look[s].mean()) for s in per_set},
            "vs_one_look": {s: compared(v["delta"]) for s, v in per_set.items()},
            "triggered": {s: v["triggered"] for s, v in per_set.items()},
            "triggered_share_all": triggered_all / sum(len(i) for i in loaded.values()),
        }
        print(name_of(policy), {s: round(v["dice"], 4) for s, v in per_set.items()}, flush=True)
    document = {
        **stamp(),
        "model": str(args.model),
        "reference": str(args.reference or args.model),
        "model_one_look": {
            name: {"dice": float(d.mean()), "vs_reference": compared(d - one_look[name])}
            for name, d in own_look.items()
        },
        "criteria": args.criteria,
        "sets": {s: len(items) for s, items in loaded.items()},
        "second_look_ms_p50": float(np.median(look_ms)) if look_ms else None,
        "one_look_ms_p50": predictor.latency_ms(repeats=50)["p50_ms"],
        "configurations": results,
        "chosen": choose(results),
    }
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print("chosen:", document["chosen"])
    return 0


def table(document: dict[str, Any]) -> str:
    """The grid as a Markdown table, from its JSON."""
    sets = list(document["sets"])
    head = " | ".join(f"{SET_NAMES[s]} (vs one look, 95 % CI; triggered)" for s in sets)
    lines = [f"| configuration | {head} |", "| --- " * (1 + len(sets)) + "|"]
    for name, row in document["configurations"].items():
        cells = []
        for s in sets:
            delta = delta_text(row["vs_one_look"][s])
            cells.append(f"{row['dice'][s]:.4f} ({delta}; {row['triggered'][s]})")
        mark = " **(chosen)**" if name == document["chosen"] else ""
        lines.append(f"| {name}{mark} | " + " | ".join(cells) + " |")
    chosen = document["chosen"] or "none: no configuration met the criteria"
    gain = max(
        np.mean([row["dice"][s] - row["one_look_dice"][s] for s in CHOSEN_ON])
        for row in document["configurations"].values()
    )
    own = document.get("model_one_look")
    if own and document["reference"] != document["model"]:
        versus = "; ".join(
            f"{SET_NAMES[s]} {own[s]['dice']:.4f} ({delta_text(own[s]['vs_reference'])})"
            for s in sets
        )
        lines.append(f"\nThe model's one look against the reference's: {versus}.")
    admissible = sum(
        all(d["mean"] >= -MAX_LOSS for d in row["vs_one_look"].values())
        for row in document["configurations"].values()
    )
    lines.append(
        f"\nBest gain in the mean of the full-field and hard-case Dice: {gain:+.4f} (the criteria "
        f"ask {MIN_GAIN:+.3f}); {admissible} of {len(document['configurations'])} configurations "
        f"lose no more than {MAX_LOSS} on any set. Chosen by the criteria: {chosen}. "
        f"Measured {document['measured']} "
        f"({document['machine']}); a second look (find, crop, model call) p50 "
        f"{document['second_look_ms_p50']:.1f} ms, a whole-field model call "
        f"{document['one_look_ms_p50']:.1f} ms."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())

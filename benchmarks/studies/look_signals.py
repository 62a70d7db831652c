"""The second look's agreement and the mask's contrast as review signals, against the flag
served (issue 29), under the criteria written first
(`benchmarks/studies/look_signals_criteria.md`).

    python -m benchmarks.studies.look_signals --data ../shared/data --split models/split.json \
        --hard-cases runs/hard --darker-skin runs/dark
    python -m benchmarks.studies.look_signals --table   # the model card's table, from the JSON

The images, folds, threshold rule, report and decision are those of quality_fit and
failure_flag. Writes benchmarks/look_signals.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from benchmarks.provenance import stamp
from benchmarks.studies.failure_flag import candidate_report, decision, table
from benchmarks.studies.quality_fit import FAILURE, add_set_arguments, folds_of, pooled_items
from segcore.metrics import score_pair
from segcore.paths import REPOSITORY
from segcore.predictor import TFLitePredictor
from segcore.processing import THRESHOLD, postprocess, preprocess
from segcore.quality import SIGNALS, signals
from segcore.second_look import Policy, second_look

RING = 4
"""The ring around the mask: pixels within this many (Chebyshev) of it, outside it."""
LOOK = Policy(trigger=0.20, margin=0.25, combination="mean")
"""The grid's best configuration (`benchmarks/second_look.json`); only its crop is used here."""
CONTRAST, AGREEMENT = "edge_contrast", "look_agreement"
ALL_SIGNALS = (*SIGNALS, CONTRAST, AGREEMENT)
CANDIDATES: dict[str, tuple[tuple[str, ...], bool]] = {
    "A": (SIGNALS, False),
    "C7": ((*SIGNALS, CONTRAST), False),
    "L7": ((*SIGNALS, AGREEMENT), True),
    "CL8": ((*SIGNALS, CONTRAST, AGREEMENT), True),
}
"""Each candidate's signals and whether it needs another model call (on triggered images)."""
REPORT = REPOSITORY / "benchmarks" / "look_signals.json"
CRITERIA = "benchmarks/studies/look_signals_criteria.md"


def ring_of(mask: np.ndarray) -> np.ndarray:
    """Pixels within RING (Chebyshev) of the mask, outside it."""
    square = np.ones((2 * RING + 1, 2 * RING + 1), dtype=bool)
    ring: np.ndarray = ndimage.binary_dilation(mask, structure=square) & ~mask
    return ring


def edge_contrast(model_input: np.ndarray, mask: np.ndarray) -> float:
    """The ring's luminance minus the mask's, over the input's luminance std + 1 (0 when either
    is empty)."""
    luminance = model_input.astype(np.float64) @ np.asarray([0.299, 0.587, 0.114])
    ring = ring_of(mask)
    if not mask.any() or not ring.any():
        return 0.0
    difference = luminance[ring].mean() - luminance[mask].mean()
    return float(difference / (luminance.std() + 1.0))


@dataclass
class LookValues:
    """ALL_SIGNALS of an image, the second look's time and whether it triggered."""

    predictor: TFLitePredictor
    look_ms: list[float] = field(default_factory=list)
    triggered: list[bool] = field(default_factory=list)

    def __call__(self, probabilities: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        size = self.predictor.input_size
        mask = probabilities > THRESHOLD
        start = time.perf_counter()
        look = second_look(self.predictor.predict, pixels, probabilities, LOOK)
        self.triggered.append(look is not None)
        agreement = 1.0
        if look is not None:
            self.look_ms.append((time.perf_counter() - start) * 1000)
            box = look.box
            first = postprocess(probabilities, *pixels.shape[:2])
            inside = first[box.top : box.bottom, box.left : box.right]
            again = postprocess(look.probabilities, box.height, box.width)
            agreement = score_pair(inside, again)["dice"]
        values = {
            **signals(probabilities),
            CONTRAST: edge_contrast(preprocess(pixels, size), mask),
            AGREEMENT: agreement,
        }
        return np.asarray([values[name] for name in ALL_SIGNALS])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.studies.look_signals", description=__doc__
    )
    add_set_arguments(parser)
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(REPORT.read_text())), end="")
        return 0
    values = LookValues(TFLitePredictor(args.model, num_threads=2))
    items = pooled_items(parser, args, values)
    folds = folds_of(items)
    candidates = {
        name: candidate_report(items, folds, names, "dice", extra, ALL_SIGNALS)
        for name, (names, extra) in CANDIDATES.items()
    }
    by_set: defaultdict[str, list[bool]] = defaultdict(list)
    for item, fired in zip(items, values.triggered, strict=True):
        by_set[item.set_name].append(fired)
    document: dict[str, Any] = {
        **stamp(),
        "criteria": CRITERIA,
        "failure": f"Dice < {FAILURE}",
        "look": {"trigger": LOOK.trigger, "margin": LOOK.margin},
        "triggered_share": {name: float(np.mean(fired)) for name, fired in by_set.items()},
        "look_ms_p50": statistics.median(values.look_ms),
        "candidates": candidates,
        "decision": decision(candidates),
    }
    REPORT.write_text(json.dumps(document, indent=2) + "\n")
    print(table(document), end="")
    print("triggered:", document["triggered_share"], "look p50 ms:", document["look_ms_p50"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

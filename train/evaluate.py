"""Score a model on a folder in the official ISIC layout with the ISIC 2018 metrics.

    python -m train.evaluate --model models/unet_float.keras \
        --data-root ../shared/data/isic2018 --subset validation --out runs/eval_val
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from segcore.decoding import read_for_model
from segcore.metrics import METRIC_NAMES, macro_average, score_pair
from segcore.overlay import overlay
from segcore.processing import postprocess, preprocess
from train.data import Sample, find_samples, load_pair, load_split

Predictor = Callable[[np.ndarray], np.ndarray]
"""Maps a batch of model inputs (N, S, S, 3) uint8 to probability maps (N, S, S) float."""


Loaded = tuple[Sample, np.ndarray, np.ndarray]
"""(sample, RGB image, 0/255 ground-truth mask) as read by `load_pair`."""


def iter_loaded(samples: Iterable[Sample]) -> Iterator[Loaded]:
    """Read the pairs one at a time."""
    for sample in samples:
        yield (sample, *load_pair(sample))


def _batches(items: Iterable[Loaded], size: int) -> Iterator[list[Loaded]]:
    batch: list[Loaded] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def model_input(sample: Sample, size: int) -> np.ndarray:
    """The model input of a sample's image, decoded exactly as the serving API decodes it."""
    with Image.open(sample.image_path) as image:
        return preprocess(read_for_model(image, size).pixels, size)


def predict_masks(
    loaded: Iterable[Loaded],
    predict: Predictor,
    size: int,
    total: int | None = None,
    batch_size: int = 8,
    progress: bool = True,
) -> list[tuple[Sample, np.ndarray, np.ndarray, np.ndarray]]:
    """(sample, image, truth, predicted 0/255 mask at the truth's size) for each loaded pair."""
    results = []
    with tqdm(total=total, desc="evaluate", unit="img", disable=not progress) as bar:
        for batch in _batches(loaded, batch_size):
            inputs = np.stack([model_input(sample, size) for sample, _, _ in batch])
            for (sample, image, truth), prob in zip(batch, predict(inputs), strict=True):
                results.append((sample, image, truth, postprocess(prob, *truth.shape)))
            bar.update(len(batch))
    return results


def rows_of(results: Sequence[tuple[Sample, np.ndarray, np.ndarray, np.ndarray]]) -> list[dict]:
    """Per-image ISIC metrics (plus id and size) of predict_masks results."""
    return [
        {"image_id": s.image_id, "height": t.shape[0], "width": t.shape[1], **score_pair(t, p)}
        for s, _, t, p in results
    ]


def keras_predictor(model) -> tuple[Predictor, int]:
    """Wrap a Keras model as a Predictor; returns it with the model's input size."""
    size = model.input_shape[1]
    if size is None:
        raise ValueError("the model has no fixed input size")

    def predict(batch: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict_on_batch(batch.astype(np.float32)))[..., 0]

    return predict, size


def select_samples(data_root: Path, subset: str, split: Path | None, part: str) -> list[Sample]:
    """All pairs of a subset, or only the ids of one part of a recorded split."""
    samples = find_samples(data_root, subset)
    if split is None:
        return samples
    wanted = set(load_split(split)[part])
    chosen = [s for s in samples if s.image_id in wanted]
    if len(chosen) != len(wanted):
        raise ValueError(f"{len(wanted) - len(chosen)} ids of {split}:{part} not in {data_root}")
    return chosen


@dataclass(frozen=True)
class EvalSet:
    """A named evaluation set in the official layout."""

    name: str
    root: Path
    subset: str
    holdout_only: bool


def standard_sets(data: Path) -> list[EvalSet]:
    """Held-out training ids (square crops and full field of view) and the official validation."""
    return [
        EvalSet("holdout_crops", data / "isic2018", "training", True),
        EvalSet("holdout_fullview", data / "isic2018_fullview", "training", True),
        EvalSet("validation", data / "isic2018", "validation", False),
    ]


def standard_set_samples(data: Path, split: Path) -> dict[str, list[Sample]]:
    """The samples of each standard set: held-out ids from `split`, the whole validation."""
    return {
        eval_set.name: select_samples(
            eval_set.root, eval_set.subset, split if eval_set.holdout_only else None, "holdout"
        )
        for eval_set in standard_sets(data)
    }


def write_report(
    rows: list[dict], out_dir: Path, panels: list[tuple[str, np.ndarray]] | None = None
) -> dict:
    """Write per_image.csv, summary.json and (if given) the overlay grid; return the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "per_image.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["image_id", "height", "width", *METRIC_NAMES])
        writer.writeheader()
        writer.writerows(rows)
    summary = macro_average(rows)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if panels:
        from train.plots import overlay_grid

        overlay_grid(panels, out_dir / "best_worst.png")
    return summary


def evaluate(
    samples: Sequence[Sample],
    predict: Predictor,
    size: int,
    out_dir: Path,
    n_examples: int = 4,
    progress: bool = True,
) -> dict:
    """Score, write the report with the best and worst overlays, and return the summary."""
    results = predict_masks(iter_loaded(samples), predict, size, len(samples), progress=progress)
    rows = rows_of(results)
    order = np.argsort([row["dice"] for row in rows], kind="stable")
    picks = [*order[::-1][:n_examples], *order[:n_examples]] if len(rows) > 1 else list(order)
    panels = []
    for index in picks:
        sample, image, truth, prediction = results[index]
        title = f"{sample.image_id}  Dice {rows[index]['dice']:.3f}"
        panels.append((title, overlay(image, prediction, truth)))
    return write_report(rows, out_dir, panels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m train.evaluate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model", type=Path, required=True, help="a .keras model")
    parser.add_argument(
        "--data-root",
        type=Path,
        help="folder holding the official ISIC 2018 sub-folders",
    )
    parser.add_argument("--subset", choices=["training", "validation"], default="validation")
    parser.add_argument("--split", type=Path, help="split.json of a run: score only one part")
    parser.add_argument("--part", choices=["train", "holdout"], default="holdout")
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument(
        "--standard-sets",
        type=Path,
        metavar="DATA",
        help="score the held-out crops, their full-field copies and the official "
        "validation under DATA (needs --split); writes metrics.json into --out",
    )
    args = parser.parse_args(argv)

    import keras

    import train.losses  # noqa: F401  (registers the custom loss/metric for loading)

    predict, size = keras_predictor(keras.saving.load_model(args.model, compile=False))
    if args.standard_sets is None:
        if args.data_root is None:
            parser.error("give --data-root (or --standard-sets)")
        samples = select_samples(args.data_root, args.subset, args.split, args.part)
        print(json.dumps(evaluate(samples, predict, size, args.out), indent=2))
        return 0
    if args.split is None:
        parser.error("--standard-sets needs --split")
    metrics = {
        name: evaluate(samples, predict, size, args.out / name)
        for name, samples in standard_set_samples(args.standard_sets, args.split).items()
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

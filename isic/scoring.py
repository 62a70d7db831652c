"""Batched scoring of a predictor on ISIC pairs with the ISIC 2018 metrics, decoded exactly as
the serving API decodes, and the report of a scored set (per-image CSV, summary, overlays)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from isic.data import Sample, find_samples, load_pair
from isic.figures import overlay_grid
from segcore.decoding import read_for_model
from segcore.flips import TEST_TIME_FLIPS, flip_averaged
from segcore.metrics import METRIC_NAMES, macro_average, score_pair
from segcore.overlay import overlay
from segcore.predictor import TFLitePredictor
from segcore.processing import postprocess, preprocess

Predictor = Callable[[np.ndarray], np.ndarray]
"""Maps a batch of model inputs (N, S, S, 3) uint8 to probability maps (N, S, S) float."""


MODEL_CHUNK = 16
"""Images per call of a Keras model: a whole set at once would hold every activation map."""

Loaded = tuple[Sample, np.ndarray, np.ndarray]
"""(sample, RGB image, 0/255 ground-truth mask) as read by `load_pair`."""

Row = dict[str, Any]
"""One image's row of the per-image report: image_id, height, width and the METRIC_NAMES."""


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


def masks_from_probabilities(
    loaded: Sequence[Loaded], probabilities: np.ndarray
) -> list[tuple[Sample, np.ndarray, np.ndarray, np.ndarray]]:
    """predict_masks' results from probability maps computed elsewhere (another runtime)."""
    return [
        (sample, image, truth, postprocess(prob, *truth.shape))
        for (sample, image, truth), prob in zip(loaded, probabilities, strict=True)
    ]


def rows_of(results: Sequence[tuple[Sample, np.ndarray, np.ndarray, np.ndarray]]) -> list[Row]:
    """Per-image ISIC metrics (plus id and size) of predict_masks results."""
    return [
        {"image_id": s.image_id, "height": t.shape[0], "width": t.shape[1], **score_pair(t, p)}
        for s, _, t, p in results
    ]


def model_predictor(model: Any, flips: int = TEST_TIME_FLIPS) -> tuple[Predictor, int]:
    """Wrap a model with `input_shape` and `predict_on_batch` (a Keras model) as a Predictor
    with the served test-time flips; returns it with the model's input size. Any batch size:
    the model sees it in chunks of MODEL_CHUNK."""
    size = model.input_shape[1]
    if size is None:
        raise ValueError("the model has no fixed input size")

    def raw(batch: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [
                np.asarray(model.predict_on_batch(chunk.astype(np.float32)))[..., 0]
                for chunk in np.split(batch, range(MODEL_CHUNK, len(batch), MODEL_CHUNK))
            ]
        )

    def predict(batch: np.ndarray) -> np.ndarray:
        return flip_averaged(raw, batch, flips)

    return predict, size


def write_report(
    rows: list[Row], out_dir: Path, panels: list[tuple[str, np.ndarray]] | None = None
) -> dict[str, float]:
    """Write per_image.csv, summary.json and (if given) the overlay grid; return the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "per_image.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["image_id", "height", "width", *METRIC_NAMES])
        writer.writeheader()
        writer.writerows(rows)
    summary = macro_average(rows)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if panels:
        overlay_grid(panels, out_dir / "best_worst.png")
    return summary


def evaluate(
    samples: Sequence[Sample],
    predict: Predictor,
    size: int,
    out_dir: Path,
    n_examples: int = 4,
    progress: bool = True,
) -> tuple[dict[str, float], list[Row]]:
    """Score, write the report with the best and worst overlays; return the summary and the
    per-image rows."""
    results = predict_masks(iter_loaded(samples), predict, size, len(samples), progress=progress)
    rows = rows_of(results)
    order = np.argsort([row["dice"] for row in rows], kind="stable")
    picks = [*order[::-1][:n_examples], *order[:n_examples]] if len(rows) > 1 else list(order)
    panels = []
    for index in picks:
        sample, image, truth, prediction = results[index]
        title = f"{sample.image_id}  Dice {rows[index]['dice']:.3f}"
        panels.append((title, overlay(image, prediction, truth)))
    return write_report(rows, out_dir, panels), rows


def score_tflite(
    model: Path, folder: Path, out_dir: Path
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Score a .tflite model (served flips) on every training-layout pair under `folder`: the
    report in `out_dir`, and the summary with each image's metrics by id."""
    predictor = TFLitePredictor(model)
    samples = find_samples(folder, "training")
    summary, rows = evaluate(samples, predictor.predict, predictor.input_size, out_dir)
    per_image = {row["image_id"]: {name: float(row[name]) for name in METRIC_NAMES} for row in rows}
    return summary, per_image

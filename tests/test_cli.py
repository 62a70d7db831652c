"""Command lines: --help, evaluation reports (training runs: test_training.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from cli_support import run_module
from isic.scoring import evaluate
from isic.sets import select_samples
from segcore.processing import resize_mask


@pytest.mark.parametrize(
    "module",
    [
        "train",
        "train.evaluate",
        "segcore.segment",
        "convert",
        "convert.gate",
        "convert.debug",
        "benchmarks.inference",
        "benchmarks.handler",
        "infra.deploy",
        "devtools.stack",
    ],
)
def test_help(module: str) -> None:
    result = run_module(module, "--help", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage: python -m" in result.stdout


@pytest.mark.parametrize("momentum", ["0", "1", "1.5"])
def test_train_refuses_an_ema_momentum_outside_0_and_1(momentum: str, tmp_path: Path) -> None:
    pack = str(tmp_path / "pack.npz")
    args = ["--pack", pack, "--holdout-pack", pack, "--run", str(tmp_path / "run")]
    result = run_module("train", *args, "--ema", momentum, timeout=60)
    assert result.returncode == 2 and "--ema is a momentum between 0 and 1" in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (["--dark-skin", "1.5"], "--dark-skin is a share between 0 and 1"),
        (["--dark-skin-gamma", "2", "1.5"], "--dark-skin-gamma needs 1 <= LOW <= HIGH"),
        (["--dark-skin-gamma", "0.5", "2"], "--dark-skin-gamma needs 1 <= LOW <= HIGH"),
        (["--init-from", "no/such.keras"], "--init-from: no such model: no/such.keras"),
        (["--teacher", "missing.tflite"], "--teacher: no such model: missing.tflite"),
        (["--teacher-weight", "1.5"], "--teacher-weight is a share between 0 and 1"),
    ],
)
def test_train_refuses_bad_flags(flag: list[str], message: str, tmp_path: Path) -> None:
    pack = str(tmp_path / "pack.npz")
    args = ["--pack", pack, "--holdout-pack", pack, "--run", str(tmp_path / "run")]
    result = run_module("train", *args, *flag, timeout=60)
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "run").exists()


def test_evaluate_writes_the_report(fullview_root: Path, tmp_path: Path) -> None:
    samples = select_samples(fullview_root, "training", None, "holdout")
    truths = {}
    for s in samples:  # an oracle that returns the ground truth at the model size
        from isic.data import load_pair

        truths[s.image_id] = resize_mask(load_pair(s)[1], 64)
    order = iter([s.image_id for s in samples])

    def oracle(batch: np.ndarray) -> np.ndarray:
        return np.stack([truths[next(order)] for _ in batch])

    summary, _ = evaluate(samples, oracle, 64, tmp_path, n_examples=2, progress=False)
    assert summary["n"] == 6 and summary["dice"] > 0.95
    with open(tmp_path / "per_image.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["image_id"] for r in rows] == sorted(truths)
    assert {(r["width"], r["height"]) for r in rows} == {("256", "192")}  # native resolution
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert (tmp_path / "best_worst.png").stat().st_size > 1000


def test_select_samples_by_split(isic_root: Path, tmp_path: Path) -> None:
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": ["ISIC_0000035"], "holdout": ["ISIC_0000053"]}))
    assert [s.image_id for s in select_samples(isic_root, "training", split, "holdout")] == [
        "ISIC_0000053"
    ]
    split.write_text(json.dumps({"train": [], "holdout": ["ISIC_9999999"]}))
    with pytest.raises(ValueError, match="not in"):
        select_samples(isic_root, "training", split, "holdout")

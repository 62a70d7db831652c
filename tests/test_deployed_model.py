"""The committed, deployed model: intact, loads in each runtime we claim, segments real images."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convert.gate_report import GateReport
from isic.data import find_samples, load_pair
from isic.scoring import model_predictor
from segcore.decoding import read_for_model
from segcore.metrics import macro_average, score_pair
from segcore.predictor import TFLitePredictor
from segcore.processing import preprocess

ROOT = Path(__file__).parent.parent
MODELS = ROOT / "models"
TFLITE_RUNTIME_PYTHON = ROOT / ".venv-tflite-runtime" / "bin" / "python"


@pytest.fixture(scope="module")
def parity() -> GateReport:
    return GateReport.read(MODELS / "parity.json")


def test_deployed_file_is_the_one_the_gate_chose(parity: GateReport) -> None:
    assert parity.deployed is not None
    data = (MODELS / "unet.tflite").read_bytes()
    assert hashlib.sha256(data).hexdigest() == parity.deployed.sha256
    flavour = parity.flavours[parity.deployed.flavour]
    assert flavour.passed and flavour.sha256 == parity.deployed.sha256
    assert flavour.sets
    for name, result in flavour.sets.items():
        assert result.delta_dice is not None
        assert result.delta_dice >= -parity.tolerances.dice, name
        assert result.delta_threshold_jaccard is not None
        assert result.delta_threshold_jaccard >= -parity.tolerances.threshold_jaccard, name


def test_metrics_cover_the_three_evaluation_sets() -> None:
    metrics = json.loads((MODELS / "metrics.json").read_text())
    assert set(metrics) == {"holdout_crops", "holdout_fullview", "validation"}
    assert metrics["validation"]["n"] == 100
    for summary in metrics.values():
        assert {"dice", "jaccard", "threshold_jaccard"} <= set(summary)


@pytest.mark.parametrize("subset_root", ["isic2018", "isic2018_fullview"])
def test_deployed_model_segments_real_held_out_images(subset_root: str) -> None:
    predictor = TFLitePredictor(MODELS / "unet.tflite")
    rows = []
    for sample in find_samples(ROOT / "tests" / "fixtures" / subset_root, "training"):
        _, truth = load_pair(sample)
        with Image.open(sample.image_path) as image:
            result = predictor.segment(read_for_model(image, predictor.input_size))
        mask = np.asarray(result.mask)
        assert mask.shape == truth.shape and result.probability_map.size == truth.shape[::-1]
        rows.append(score_pair(truth, mask))
    assert macro_average(rows)["dice"] > 0.8  # these ids were held out from training


def test_float_keras_and_deployed_model_agree() -> None:
    keras = pytest.importorskip("keras")
    model = keras.saving.load_model(MODELS / "unet_float.keras", compile=False)
    predictor = TFLitePredictor(MODELS / "unet.tflite")
    samples = find_samples(ROOT / "tests" / "fixtures" / "isic2018", "validation")
    x = np.stack([preprocess(load_pair(s)[0], predictor.input_size) for s in samples])
    expected = model_predictor(model)[0](x)  # the same test-time flips as the predictor
    assert np.mean((predictor.predict(x) > 0.5) == (expected > 0.5)) > 0.98


def test_deployed_model_runs_in_tflite_runtime(parity: GateReport, tmp_path: Path) -> None:
    assert parity.deployed is not None
    claim = parity.flavours[parity.deployed.flavour].runtimes.get("tflite-runtime")
    assert claim is not None and claim.loads and claim.sets, "gated without tflite-runtime"
    for name, score in claim.sets.items():
        assert score.delta_dice is not None
        assert score.delta_dice >= -parity.tolerances.dice, name
        assert score.delta_threshold_jaccard is not None
        assert score.delta_threshold_jaccard >= -parity.tolerances.threshold_jaccard, name
    if not TFLITE_RUNTIME_PYTHON.exists():
        pytest.fail("run `make setup`: the tflite-runtime environment is missing")
    predictor = TFLitePredictor(MODELS / "unet.tflite")
    samples = find_samples(ROOT / "tests" / "fixtures" / "isic2018", "validation")
    x = np.stack([preprocess(load_pair(s)[0], predictor.input_size) for s in samples])
    np.save(tmp_path / "in.npy", x)
    result = subprocess.run(
        [
            str(TFLITE_RUNTIME_PYTHON),
            "-m",
            "convert.probe",
            str(MODELS / "unet.tflite"),
            str(tmp_path / "in.npy"),
            str(tmp_path / "out.npy"),
            "--runtime",
            "tflite-runtime",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["runtime"] == "tflite-runtime"
    agreement = np.mean((np.load(tmp_path / "out.npy") > 0.5) == (predictor.predict(x) > 0.5))
    assert agreement > 0.98

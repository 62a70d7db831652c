"""Conversion to every TFLite flavour and the parity gate, on the committed tiny fixture model.

One parity check per export path, and a deliberately broken int8 that the gate must refuse.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cli_support import run_module

keras = pytest.importorskip("keras")

from convert.export import convert  # noqa: E402
from convert.flavours import FLAVOURS  # noqa: E402
from convert.gate import refusals  # noqa: E402
from convert.gate_report import GateReport, SetScore, Tolerances  # noqa: E402
from isic.data import find_samples, load_pair  # noqa: E402
from isic.scoring import model_predictor  # noqa: E402
from segcore.predictor import TFLitePredictor  # noqa: E402
from segcore.processing import preprocess  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
TINY = FIXTURES / "models" / "unet_tiny.keras"
SPLIT = FIXTURES / "models" / "split.json"


@pytest.fixture(scope="module")
def flavour_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tflite")
    result = run_module(
        "convert",
        "--model",
        str(TINY),
        "--data-root",
        str(FIXTURES / "isic2018"),
        "--split",
        str(SPLIT),
        "--out",
        str(out),
        "--calibration-count",
        "6",
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_flavour_matches_the_keras_model(flavour_dir: Path, flavour: str) -> None:
    model = keras.saving.load_model(TINY, compile=False)
    predictor = TFLitePredictor(flavour_dir / f"unet_{flavour}.tflite")
    assert predictor.input_size == 64
    assert predictor.flavour == flavour
    assert predictor.input_dtype == ("uint8" if flavour == "int8" else "float32")
    samples = find_samples(FIXTURES / "isic2018", "validation")
    x = np.stack([preprocess(load_pair(s)[0], 64) for s in samples])
    expected = model_predictor(model)[0](x)  # the same test-time flips as the predictor
    got = predictor.predict(x)
    max_mean_diff, min_agreement = {
        "float32": (1e-5, 0.999),
        "float16": (2e-3, 0.995),
        "dynamic": (1e-2, 0.99),
        "int8": (4e-2, 0.95),
    }[flavour]
    assert np.mean(np.abs(got - expected)) < max_mean_diff
    assert np.mean((got > 0.5) == (expected > 0.5)) > min_agreement


def _gate(flavour_dir: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_module(
        "convert.gate",
        "--keras",
        str(TINY),
        "--tflite-dir",
        str(flavour_dir),
        "--data",
        str(FIXTURES),
        "--split",
        str(SPLIT),
        "--out",
        str(out),
        *extra,
        timeout=600,
    )


def test_gate_deploys_the_fastest_passing_flavour(flavour_dir: Path, tmp_path: Path) -> None:
    # The fixture sets hold 4-6 images: one crossing the 0.65 cut moves thresholded Jaccard 0.1+.
    result = _gate(flavour_dir, tmp_path, "--tolerance", "0.02", "--tj-tolerance", "0.2")
    assert result.returncode == 0, result.stderr[-3000:]
    report = GateReport.read(tmp_path / "parity.json")
    assert report.deployed is not None
    passing = {k: v for k, v in report.flavours.items() if v.passed and v.latency_ms}
    assert report.deployed.flavour in passing
    fastest = min(passing, key=lambda k: passing[k].latency_ms["2_threads"]["p50_ms"])
    assert report.deployed.flavour == fastest
    assert set(report.float_keras.sets) == {"holdout_crops", "holdout_fullview", "validation"}
    assert (
        hashlib.sha256((tmp_path / "unet.tflite").read_bytes()).hexdigest()
        == report.deployed.sha256
    )
    assert "| int8 |" in (tmp_path / "PARITY.md").read_text()


TFLITE_RUNTIME_PYTHON = ROOT / ".venv-tflite-runtime" / "bin" / "python"


def test_gate_scores_every_flavour_in_both_runtimes(flavour_dir: Path, tmp_path: Path) -> None:
    """Dice parity per runtime: the dynamic-range file (which tflite-runtime cannot run) is
    refused; every other flavour carries its own tflite-runtime scores, close to LiteRT's."""
    if not TFLITE_RUNTIME_PYTHON.exists():
        pytest.fail("run `make setup`: the tflite-runtime environment is missing")
    result = _gate(
        flavour_dir,
        tmp_path,
        "--tolerance",
        "0.02",
        "--tj-tolerance",
        "0.2",
        "--also-runtime",
        f"tflite-runtime={TFLITE_RUNTIME_PYTHON}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = GateReport.read(tmp_path / "parity.json")
    dynamic = report.flavours["dynamic"]
    assert not dynamic.passed and not dynamic.runtimes["tflite-runtime"].loads
    assert any("does not run in tflite-runtime" in r for r in dynamic.reasons)
    for name in ("float32", "float16", "int8"):
        check = report.flavours[name].runtimes["tflite-runtime"]
        served = report.flavours[name].sets
        assert check.loads and check.sets is not None and served is not None
        assert set(check.sets) == set(served)
        for set_name, score in check.sets.items():
            assert abs(score.dice - served[set_name].dice) < 0.01
            assert score.delta_threshold_jaccard is not None
    assert report.deployed is not None and report.deployed.flavour != "dynamic"
    assert "| dynamic | tflite-runtime |" in (tmp_path / "PARITY.md").read_text()


def test_gate_refuses_broken_quantization(tmp_path: Path) -> None:
    """int8 calibrated on black images: the gate must say no, naming set and numbers."""
    model = keras.saving.load_model(TINY, compile=False)

    def zeros():
        for _ in range(4):
            yield [np.zeros((1, 64, 64, 3), np.float32)]

    broken = dict(convert(model, ["int8"], zeros))["int8"]
    (tmp_path / "unet_int8.tflite").write_bytes(broken)
    result = _gate(tmp_path, tmp_path / "out", "--flavours", "int8")
    assert result.returncode == 1
    assert "REFUSED" in result.stdout and "drop" in result.stdout
    assert "nothing deployed" in result.stderr
    assert not (tmp_path / "out" / "unet.tflite").exists()


def test_gate_refuses_a_tolerance_that_is_not_a_finite_drop(tmp_path: Path) -> None:
    result = _gate(tmp_path, tmp_path / "out", "--tj-tolerance", "nan")
    assert result.returncode == 2 and "must be a finite number >= 0" in result.stderr


def test_gate_refuses_a_file_that_does_not_load(tmp_path: Path) -> None:
    (tmp_path / "unet_float32.tflite").write_bytes(b"not a flatbuffer")
    result = _gate(tmp_path, tmp_path / "out", "--flavours", "float32")
    assert result.returncode == 1
    assert "does not run in litert" in result.stdout


TOLERANCES = Tolerances(dice=0.005, threshold_jaccard=0.02)


def test_a_dice_drop_in_another_runtime_is_a_refusal_naming_it() -> None:
    served = SetScore(n=10, dice=0.88, jaccard=0.8, threshold_jaccard=0.75)
    other = SetScore(n=10, dice=0.86, jaccard=0.78, threshold_jaccard=0.74)
    assert refusals({"validation": served}, {"validation": served}, TOLERANCES, "litert") == []
    reasons = refusals({"validation": other}, {"validation": served}, TOLERANCES, "tflite-runtime")
    assert len(reasons) == 1 and reasons[0].startswith("tflite-runtime validation: Dice 0.8600")


def test_a_thresholded_jaccard_drop_alone_is_a_refusal() -> None:
    """Same Dice, but images fell below the ISIC metric's 0.65 Jaccard cut."""
    served = SetScore(n=100, dice=0.88, jaccard=0.8, threshold_jaccard=0.76)
    crossed = SetScore(n=100, dice=0.879, jaccard=0.799, threshold_jaccard=0.73)
    reasons = refusals({"validation": crossed}, {"validation": served}, TOLERANCES, "litert")
    assert reasons == [
        "litert validation: thresholded Jaccard 0.7300 vs float 0.7600 (drop 0.0300 > tolerance "
        "0.02)"
    ]
    near = crossed.model_copy(update={"threshold_jaccard": 0.745})
    assert refusals({"validation": near}, {"validation": served}, TOLERANCES, "litert") == []

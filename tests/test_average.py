"""Weight averaging (train.average): the mean of each tensor, refused across architectures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cli_support import run_module
from train.average import average_weights


def test_weighted_mean_of_each_tensor() -> None:
    a = [np.zeros((2, 3)), np.full(4, 2.0)]
    b = [np.ones((2, 3)), np.full(4, 6.0)]
    mean = average_weights([a, b], [0.25, 0.75])
    np.testing.assert_allclose(mean[0], np.full((2, 3), 0.75))
    np.testing.assert_allclose(mean[1], np.full(4, 5.0))


@pytest.mark.parametrize(
    ("second", "shares", "message"),
    [
        ([np.zeros((3, 2))], [0.5, 0.5], "architecture"),
        ([np.zeros((2, 3))], [0.6, 0.6], "sum to 1"),
        ([np.zeros((2, 3))], [1.0], "one share per model"),
        ([np.zeros((2, 3))], [1.5, -0.5], "non-negative"),
    ],
)
def test_refuses_what_cannot_be_averaged(
    second: list[np.ndarray], shares: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        average_weights([[np.zeros((2, 3))], second], shares)


def test_single_model_is_refused() -> None:
    with pytest.raises(ValueError, match="at least two"):
        average_weights([[np.zeros(2)]], [1.0])


def test_cli_names_a_missing_model(tmp_path: Path) -> None:
    result = run_module(
        "train.average", str(tmp_path / "a.keras"), str(tmp_path / "b.keras"), "--out", "c.keras"
    )
    assert result.returncode == 2 and "no such model" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_cli_refuses_models_of_different_input_sizes(tmp_path: Path) -> None:
    pytest.importorskip("keras")
    from train.model import build_unet

    for size in (32, 48):
        build_unet(size, base_filters=4, depth=2).save(tmp_path / f"m{size}.keras")
    result = run_module(
        "train.average",
        str(tmp_path / "m32.keras"),
        str(tmp_path / "m48.keras"),
        "--out",
        str(tmp_path / "o.keras"),
    )
    assert result.returncode == 2 and "different input sizes" in result.stderr
    assert not (tmp_path / "o.keras").exists()


@pytest.mark.slow
def test_cli_writes_a_model_with_the_mean_weights(tmp_path: Path) -> None:
    keras = pytest.importorskip("keras")
    from train.model import build_unet

    paths = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        model = build_unet(32, base_filters=4, depth=2)
        paths.append(tmp_path / f"m{seed}.keras")
        model.save(paths[-1])
    out = tmp_path / "soup" / "unet_float.keras"
    result = run_module("train.average", *map(str, paths), "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    weights = [keras.saving.load_model(p, compile=False).get_weights() for p in (*paths, out)]
    for first, second, averaged in zip(*weights, strict=True):
        np.testing.assert_allclose(averaged, (first + second) / 2, rtol=1e-6, atol=1e-7)
    assert not np.allclose(weights[0][0], weights[1][0])  # the seeds gave different models

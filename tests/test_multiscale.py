"""Multi-scale models (train.multiscale): the averaged maps are what they say, the U-Net comes back
out unchanged, bad sizes are refused, and the int8 TFLite file keeps parity with the Keras model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cli_support import run_module

keras = pytest.importorskip("keras")

from convert.export import convert  # noqa: E402
from convert.representative import representative_dataset  # noqa: E402
from isic.data import find_samples, load_pair  # noqa: E402
from isic.scoring import model_predictor  # noqa: E402
from segcore.predictor import TFLitePredictor  # noqa: E402
from segcore.processing import preprocess  # noqa: E402
from train.model import build_unet  # noqa: E402
from train.multiscale import load_unet, multiscale, unet_of  # noqa: E402

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "models" / "unet_tiny.keras"


def _unet(size: int | None = 32) -> keras.Model:
    keras.utils.set_random_seed(7)
    return build_unet(size, base_filters=4, depth=2)


def _images(n: int = 2, size: int = 32) -> np.ndarray:
    return np.random.default_rng(8).uniform(0, 255, (n, size, size, 3)).astype("float32")


def test_averages_the_map_at_each_size() -> None:
    unet = _unet()
    model = multiscale(unet, [16, 48])
    free = _unet(None)
    free.set_weights(unet.get_weights())
    x = _images()
    maps = [np.asarray(free.predict(x, verbose=0))]
    for other in (16, 48):
        small = keras.ops.image.resize(x, (other, other), interpolation="bilinear")
        back = keras.ops.image.resize(free.predict(small, verbose=0), (32, 32))
        maps.append(np.asarray(back))
    np.testing.assert_allclose(model.predict(x, verbose=0), np.mean(maps, axis=0), atol=1e-5)
    assert model.count_params() == unet.count_params()


def test_the_unet_comes_back_out(tmp_path: Path) -> None:
    unet = _unet()
    multiscale(unet, [16]).save(tmp_path / "multiscale.keras")
    again = load_unet(tmp_path / "multiscale.keras")
    assert again.input_shape == unet.input_shape
    np.testing.assert_allclose(
        again.predict(_images(), verbose=0), unet.predict(_images(), verbose=0), atol=1e-6
    )
    assert unet_of(unet) is unet


@pytest.mark.parametrize("sizes", [[], [32], [26], [16, -16]])
def test_refuses_sizes_it_cannot_use(sizes: list[int]) -> None:
    with pytest.raises(ValueError, match="multiple of 4"):
        multiscale(_unet(), sizes)


def test_cli_writes_a_model_and_refuses_bad_sizes(tmp_path: Path) -> None:
    out = tmp_path / "multiscale.keras"
    done = run_module("train.multiscale", str(TINY), "--sizes", "48", "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert keras.saving.load_model(out, compile=False).input_shape == (None, 64, 64, 3)
    refused = run_module("train.multiscale", str(TINY), "--sizes", "50", "--out", str(out))
    assert refused.returncode == 2
    assert "multiple of 8" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_int8_file_keeps_parity(tmp_path: Path) -> None:
    model = multiscale(keras.saving.load_model(TINY, compile=False), [48])
    samples = find_samples(FIXTURES / "isic2018", "training")
    ((_, data),) = convert(model, ["int8"], representative_dataset(samples, 64, 6))
    (tmp_path / "unet_int8.tflite").write_bytes(data)
    predictor = TFLitePredictor(tmp_path / "unet_int8.tflite")
    assert predictor.unet_passes_per_call == 2, "two scales: two sigmoids"
    assert TFLitePredictor(tmp_path / "unet_int8.tflite", flips=4).unet_passes == 8
    validation = find_samples(FIXTURES / "isic2018", "validation")
    x = np.stack([preprocess(load_pair(s)[0], 64) for s in validation])
    expected = model_predictor(model)[0](x)
    got = predictor.predict(x)
    assert np.mean(np.abs(got - expected)) < 4e-2
    assert np.mean((got > 0.5) == (expected > 0.5)) > 0.95


def test_widen_and_init_from_take_the_unet_out(tmp_path: Path) -> None:
    from train.widen import init_from

    source = _unet()
    multiscale(source, [16]).save(tmp_path / "multiscale.keras")
    keras.utils.set_random_seed(99)
    target = build_unet(32, base_filters=4, depth=2)
    assert not np.array_equal(target.get_weights()[0], source.get_weights()[0])
    init_from(target, load_unet(tmp_path / "multiscale.keras"))
    for got, expected in zip(target.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)
    out = tmp_path / "wide.keras"
    done = run_module(
        "train.widen", str(tmp_path / "multiscale.keras"), "--base-filters", "6", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert keras.saving.load_model(out, compile=False).input_shape == (None, 32, 32, 3)

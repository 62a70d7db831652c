"""Widening (train.widen): the wider model computes what the narrow one did, and can learn."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from cli_support import run_module
from train.losses import dice_bce_loss
from train.model import build_unet
from train.widen import init_from, widened


def _trained_like(size: int = 32, base: int = 4, depth: int = 2) -> keras.Model:
    """A small U-Net whose weights and BatchNorm statistics are all random (none at defaults)."""
    keras.utils.set_random_seed(3)
    model = build_unet(size, base, depth)
    rng = np.random.default_rng(4)
    model.set_weights(
        [
            rng.uniform(0.5, 1.5, w.shape).astype(w.dtype)
            if w.ndim == 1 and "variance" in v.path
            else (w + rng.normal(0, 0.2, w.shape)).astype(w.dtype)
            for w, v in zip(model.get_weights(), model.weights, strict=True)
        ]
    )
    return model


def _images(n: int = 2, size: int = 32) -> np.ndarray:
    return np.random.default_rng(5).uniform(0, 255, (n, size, size, 3)).astype("float32")


def test_widened_model_computes_the_same_map() -> None:
    narrow = _trained_like()
    wide = widened(narrow, 7)
    assert wide.count_params() > 2 * narrow.count_params()
    np.testing.assert_allclose(
        wide.predict(_images(), verbose=0), narrow.predict(_images(), verbose=0), atol=1e-5
    )


def test_added_channels_learn() -> None:
    narrow = _trained_like()
    wide = widened(narrow, 8)
    masks = (np.random.default_rng(6).uniform(size=(4, 32, 32, 1)) > 0.5).astype("float32")
    wide.compile(keras.optimizers.Adam(1e-3), loss=dice_bce_loss)
    wide.fit(_images(4), masks, epochs=2, batch_size=2, verbose=0)
    added_into_kept = wide.get_layer("enc0_conv2").get_weights()[0][:, :, 4:, :4]
    assert np.abs(added_into_kept).max() > 0


def test_refuses_a_narrower_width() -> None:
    with pytest.raises(ValueError, match="narrower"):
        widened(_trained_like(), 3)


def test_training_starts_from_a_narrower_or_an_equal_model() -> None:
    """`python -m train --init-from` widens a narrower model and copies an equal one."""
    narrow = _trained_like()
    wide = build_unet(32, 6, 2)
    init_from(wide, narrow)
    np.testing.assert_allclose(
        wide.predict(_images(), verbose=0), narrow.predict(_images(), verbose=0), atol=1e-5
    )
    same = build_unet(32, 4, 2)
    init_from(same, narrow)
    for copied, original in zip(same.get_weights(), narrow.get_weights(), strict=True):
        np.testing.assert_array_equal(copied, original)
    with pytest.raises(ValueError, match="wider model"):
        init_from(build_unet(32, 2, 2), narrow)


def test_cli_round_trip_and_usage_errors(tmp_path: Path) -> None:
    narrow = _trained_like()
    narrow.save(tmp_path / "narrow.keras")
    out = tmp_path / "wide" / "unet_float.keras"
    result = run_module(
        "train.widen", str(tmp_path / "narrow.keras"), "--base-filters", "6", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    wide = keras.saving.load_model(out, compile=False)
    assert wide.get_layer("enc0_conv1").output.shape[-1] == 6
    np.testing.assert_allclose(
        wide.predict(_images(), verbose=0), narrow.predict(_images(), verbose=0), atol=1e-5
    )
    for args, message in [
        ([str(tmp_path / "none.keras"), "--base-filters", "6", "--out", str(out)], "no such model"),
        ([str(tmp_path / "narrow.keras"), "--base-filters", "6", "--out", "w.h5"], "must end in"),
        ([str(tmp_path / "narrow.keras"), "--base-filters", "2", "--out", str(out)], "narrower"),
    ]:
        refused = run_module("train.widen", *args)
        assert refused.returncode == 2 and message in refused.stderr
        assert "Traceback" not in refused.stderr

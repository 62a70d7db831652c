"""U-Net shapes and a short training run whose loss goes down."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from isic.data import find_samples, load_pair  # noqa: E402
from segcore.processing import preprocess, resize_mask  # noqa: E402
from train.losses import dice_bce_loss, dice_metric  # noqa: E402
from train.model import build_unet  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("size", "depth"), [(64, 4), (96, 3), (128, 5)])
def test_output_shape_matches_input(size: int, depth: int) -> None:
    model = build_unet(size, base_filters=4, depth=depth)
    out = model.predict_on_batch(np.zeros((2, size, size, 3), np.float32))
    assert out.shape == (2, size, size, 1)
    assert np.all((out >= 0) & (out <= 1))


def test_fully_convolutional_model_takes_any_multiple_of_the_stride() -> None:
    model = build_unet(None, base_filters=4, depth=3)
    for height, width in ((64, 64), (48, 80)):
        out = model.predict_on_batch(np.zeros((1, height, width, 3), np.float32))
        assert out.shape == (1, height, width, 1)


def test_loss_decreases_on_real_fixtures(isic_root: Path) -> None:
    keras.utils.set_random_seed(0)
    pairs = [load_pair(s) for s in find_samples(isic_root, "training")]
    x = np.stack([preprocess(image, 64) for image, _ in pairs]).astype(np.float32)
    y = np.stack([resize_mask(mask, 64) for _, mask in pairs])[..., None]
    model = build_unet(64, base_filters=8, depth=3)
    model.compile(keras.optimizers.Adam(3e-3), loss=dice_bce_loss, metrics=[dice_metric])
    history = model.fit(x, y, batch_size=3, epochs=15, verbose=0).history["loss"]
    assert np.mean(history[-3:]) < 0.8 * np.mean(history[:3])

"""Training losses against their definitions (no dataset, no training)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from train.losses import LOSSES, lovasz_bce_loss, lovasz_jaccard  # noqa: E402


def _jaccard_loss(truth: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """1 - Jaccard per image of binary masks (0 for two empty masks)."""
    axes = (1, 2, 3)
    intersection = (truth * prediction).sum(axes)
    union = np.maximum(truth, prediction).sum(axes)
    return np.where(union > 0, 1.0 - intersection / np.maximum(union, 1.0), 0.0)


def test_lovasz_of_a_binary_prediction_is_one_minus_its_jaccard() -> None:
    rng = np.random.default_rng(3)
    truth = (rng.random((6, 12, 12, 1)) > rng.random((6, 1, 1, 1))).astype("float32")
    prediction = (rng.random((6, 12, 12, 1)) > 0.5).astype("float32")
    truth[0], prediction[1] = 0.0, 0.0  # an empty truth, an empty prediction
    truth[2] = prediction[2] = 0.0  # both empty
    loss = keras.ops.convert_to_numpy(lovasz_jaccard(truth, prediction))
    np.testing.assert_allclose(loss, _jaccard_loss(truth, prediction), atol=1e-6)


def test_lovasz_falls_as_probabilities_move_toward_the_truth() -> None:
    rng = np.random.default_rng(4)
    truth = (rng.random((2, 16, 16, 1)) > 0.6).astype("float32")
    losses = [
        keras.ops.convert_to_numpy(lovasz_bce_loss(truth, 0.5 + (truth - 0.5) * confidence))
        for confidence in (0.0, 0.4, 0.8, 0.98)
    ]
    assert all(np.all(later < earlier) for earlier, later in pairwise(losses))


def test_losses_are_registered_for_loading_saved_models() -> None:
    for name, loss in LOSSES.items():
        assert keras.saving.get_registered_object(f"unet>{name}_loss") is loss

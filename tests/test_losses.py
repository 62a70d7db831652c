"""Training losses against their definitions (no dataset, no training)."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from train.cli import parse_args  # noqa: E402
from train.losses import LOSSES, lovasz_bce_loss, lovasz_jaccard  # noqa: E402


def _lovasz_reference(truth: np.ndarray, prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Berman et al.'s binary Lovász loss on probabilities, per image, and its gradient."""
    losses, grads = [], []
    for t, p in zip(truth.reshape(len(truth), -1), prob.reshape(len(prob), -1), strict=True):
        errors = np.abs(t - p)
        order = np.argsort(-errors, kind="stable")
        sorted_truth = t[order]
        jaccard = 1.0 - (t.sum() - np.cumsum(sorted_truth)) / (
            t.sum() + np.cumsum(1.0 - sorted_truth)
        )
        steps = np.diff(jaccard, prepend=0.0)
        losses.append(errors[order] @ steps)
        grad = np.empty_like(p)
        grad[order] = np.sign(p - t)[order] * steps
        grads.append(grad.reshape(truth.shape[1:]))
    return np.array(losses), np.array(grads)


def _autograd(truth: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """d(sum of lovasz_jaccard)/d(prob) through the backend's own differentiation."""
    if keras.backend.backend() == "jax":
        import jax

        return np.asarray(jax.grad(lambda p: lovasz_jaccard(truth, p).sum())(prob))
    import tensorflow as tf

    variable = tf.Variable(prob)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(lovasz_jaccard(truth, variable))
    return tape.gradient(total, variable).numpy()


def _masks(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random truths (one empty, one all lesion) and probabilities whose errors |truth - p| never
    tie (at a tie the gradient depends on the sort order): (k + 1/4) / n for distinct k."""
    rng = np.random.default_rng(seed)
    truth = (rng.random((6, 12, 12, 1)) > rng.random((6, 1, 1, 1))).astype("float32")
    truth[0], truth[1] = 0.0, 1.0
    n = truth.size
    return truth, ((rng.permutation(n).reshape(truth.shape) + 0.25) / n).astype("float32")


def test_lovasz_of_a_binary_prediction_is_one_minus_its_jaccard() -> None:
    truth, prob = _masks(3)
    prediction = (prob > 0.5).astype("float32")
    prediction[2] = 0.0  # an empty prediction
    truth[3] = prediction[3] = 0.0  # an empty pair
    union = np.maximum(truth, prediction).sum((1, 2, 3))
    jaccard = (truth * prediction).sum((1, 2, 3)) / np.maximum(union, 1.0)
    expected = np.where(union > 0, 1.0 - jaccard, 0.0)
    loss = keras.ops.convert_to_numpy(lovasz_jaccard(truth, prediction))
    np.testing.assert_allclose(loss, expected, atol=1e-6)


def test_lovasz_and_its_gradient_match_the_reference_on_probabilities() -> None:
    truth, prob = _masks(4)
    expected_loss, expected_grad = _lovasz_reference(truth, prob)
    loss = keras.ops.convert_to_numpy(lovasz_jaccard(truth, prob))
    np.testing.assert_allclose(loss, expected_loss, atol=1e-5)
    np.testing.assert_allclose(_autograd(truth, prob), expected_grad, atol=1e-5)


def test_lovasz_bce_adds_the_lovasz_term_to_the_cross_entropy() -> None:
    truth, prob = _masks(5)
    bce = -np.mean(truth * np.log(prob) + (1 - truth) * np.log(1 - prob), axis=(1, 2, 3))
    loss = keras.ops.convert_to_numpy(lovasz_bce_loss(truth, prob))
    np.testing.assert_allclose(loss, bce + _lovasz_reference(truth, prob)[0], rtol=1e-4)


def test_every_loss_is_a_training_choice_and_registered_for_loading() -> None:
    assert set(LOSSES) == {"dice_bce", "lovasz_bce"}
    for name, loss in LOSSES.items():
        args = parse_args(["--pack", "p", "--holdout-pack", "p", "--run", "r", "--loss", name])
        assert args.loss == name
        assert keras.saving.get_registered_object(f"unet>{name}_loss") is loss

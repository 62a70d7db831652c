"""Training losses (Dice + BCE, Lovász + BCE) and a thresholded per-image Dice metric
(keras.ops, backend-agnostic)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from segcore.processing import THRESHOLD

Tensor = Any
"""A backend tensor (TensorFlow, JAX) or array."""
SMOOTH = 1.0


def soft_dice(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-image soft Dice, shape (batch,)."""
    axes = (1, 2, 3)
    intersection = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return (2.0 * intersection + SMOOTH) / (total + SMOOTH)


def per_image_bce(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Mean binary cross-entropy per image, shape (batch,)."""
    return ops.mean(keras.losses.binary_crossentropy(y_true, y_pred), axis=(1, 2))


@keras.saving.register_keras_serializable(package="unet")
def dice_bce_loss(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Binary cross-entropy plus (1 - soft Dice), per image."""
    y_true = ops.cast(y_true, y_pred.dtype)
    return per_image_bce(y_true, y_pred) + 1.0 - soft_dice(y_true, y_pred)


def lovasz_jaccard(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-image Lovász extension of the Jaccard loss on probabilities (Berman et al., 2018),
    shape (batch,). Equals 1 - Jaccard when the prediction is binary. The gradient flows through
    the sorted errors; the Jaccard steps depend only on the truth and the order."""
    batch = ops.shape(y_pred)[0]
    truth = ops.reshape(ops.cast(y_true, "float32"), (batch, -1))
    errors = ops.abs(truth - ops.reshape(ops.cast(y_pred, "float32"), (batch, -1)))
    order = ops.flip(ops.argsort(errors, axis=-1), axis=-1)
    errors = ops.take_along_axis(errors, order, axis=-1)
    truth = ops.take_along_axis(truth, order, axis=-1)
    positives = ops.sum(truth, axis=-1, keepdims=True)
    intersection = positives - ops.cumsum(truth, axis=-1)
    union = positives + ops.cumsum(1.0 - truth, axis=-1)
    jaccard = 1.0 - intersection / union
    steps = ops.concatenate([jaccard[:, :1], jaccard[:, 1:] - jaccard[:, :-1]], axis=-1)
    return ops.sum(errors * steps, axis=-1)


@keras.saving.register_keras_serializable(package="unet")
def lovasz_bce_loss(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Binary cross-entropy plus the Lovász-Jaccard loss, per image: optimises the per-image
    Jaccard the ISIC metric scores (for fine-tuning a model trained with Dice + BCE)."""
    y_true = ops.cast(y_true, y_pred.dtype)
    bce = per_image_bce(y_true, y_pred)
    return bce + ops.cast(lovasz_jaccard(y_true, y_pred), bce.dtype)


LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "dice_bce": dice_bce_loss,
    "lovasz_bce": lovasz_bce_loss,
}
"""The training losses, by their `python -m train --loss` names."""


@keras.saving.register_keras_serializable(package="unet")
def dice_metric(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Dice of the mask thresholded at THRESHOLD, per image (averaged by Keras)."""
    y_true = ops.cast(y_true > THRESHOLD, "float32")
    y_pred = ops.cast(y_pred > THRESHOLD, "float32")
    axes = (1, 2, 3)
    intersection = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return ops.where(total > 0, 2.0 * intersection / ops.maximum(total, 1.0), 1.0)

"""Dice + BCE loss and a thresholded per-image Dice metric (keras.ops, backend-agnostic)."""

from __future__ import annotations

import keras
from keras import ops

from segcore.processing import THRESHOLD

SMOOTH = 1.0


def soft_dice(y_true, y_pred):
    """Per-image soft Dice, shape (batch,)."""
    axes = (1, 2, 3)
    intersection = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return (2.0 * intersection + SMOOTH) / (total + SMOOTH)


@keras.saving.register_keras_serializable(package="unet")
def dice_bce_loss(y_true, y_pred):
    """Binary cross-entropy plus (1 - soft Dice), per image."""
    y_true = ops.cast(y_true, y_pred.dtype)
    bce = ops.mean(keras.losses.binary_crossentropy(y_true, y_pred), axis=(1, 2))
    return bce + 1.0 - soft_dice(y_true, y_pred)


@keras.saving.register_keras_serializable(package="unet")
def dice_metric(y_true, y_pred):
    """Dice of the mask thresholded at THRESHOLD, per image (averaged by Keras)."""
    y_true = ops.cast(y_true > THRESHOLD, "float32")
    y_pred = ops.cast(y_pred > THRESHOLD, "float32")
    axes = (1, 2, 3)
    intersection = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return ops.where(total > 0, 2.0 * intersection / ops.maximum(total, 1.0), 1.0)

"""Training input pipeline (tf.data) with augmentation suited to dermoscopy."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from segcore.processing import binary


def _rotate(x: tf.Tensor, max_degrees: float) -> tf.Tensor:
    """Rotate (H, W, C) by a random angle about its centre, reflecting at the borders."""
    angle = tf.random.uniform([], -max_degrees, max_degrees) * math.pi / 180.0
    height, width = tf.cast(tf.shape(x)[0], tf.float32), tf.cast(tf.shape(x)[1], tf.float32)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    cos, sin = tf.cos(angle), tf.sin(angle)
    transform = tf.stack(
        [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy, 0.0, 0.0]
    )
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=x[None],
        transforms=transform[None],
        output_shape=tf.shape(x)[:2],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )[0]


def _scale_aspect_crop(x: tf.Tensor, size: int) -> tf.Tensor:
    """Random zoom in/out with aspect-ratio jitter, resized to (size, size).

    A box wider than tall squashes the image horizontally, as a full-field 4:3 upload is
    squashed to the square model input; boxes larger than the image zoom out (black border,
    like a dermoscope's vignette).
    """
    area = tf.random.uniform([], 0.4, 1.3)
    aspect = tf.exp(tf.random.uniform([], math.log(0.7), math.log(1.45)))
    box_h, box_w = tf.sqrt(area / aspect), tf.sqrt(area * aspect)
    y0 = tf.random.uniform([], tf.minimum(0.0, 1 - box_h), tf.maximum(0.0, 1 - box_h))
    x0 = tf.random.uniform([], tf.minimum(0.0, 1 - box_w), tf.maximum(0.0, 1 - box_w))
    boxes = tf.stack([y0, x0, y0 + box_h, x0 + box_w])[None]
    return tf.image.crop_and_resize(x[None], boxes, [0], [size, size], extrapolation_value=0.0)[0]


def augment(image: tf.Tensor, mask: tf.Tensor, size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Geometric (joint) and photometric (image only) augmentation; uint8 in, float out."""
    x = tf.concat([tf.cast(image, tf.float32) / 255.0, tf.cast(mask, tf.float32) / 255.0], -1)
    x = tf.image.random_flip_left_right(x)
    x = tf.image.random_flip_up_down(x)
    x = tf.image.rot90(x, tf.random.uniform([], 0, 4, tf.int32))
    x = _rotate(x, 30.0)
    x = _scale_aspect_crop(x, size)
    rgb, mask = x[..., :3], tf.cast(x[..., 3:] > 0.5, tf.float32)
    rgb = tf.image.random_brightness(rgb, 0.1)
    rgb = tf.image.random_contrast(rgb, 0.8, 1.25)
    rgb = tf.image.random_saturation(rgb, 0.75, 1.3)
    rgb = tf.image.random_hue(rgb, 0.04)
    return tf.clip_by_value(rgb, 0.0, 1.0) * 255.0, mask


def training_dataset(
    images: np.ndarray, masks: np.ndarray, size: int, batch_size: int, seed: int
) -> tf.data.Dataset:
    """Shuffled, augmented, batched, prefetched batches of (pixels 0..255, {0,1} mask)."""
    ds = tf.data.Dataset.from_tensor_slices((images, masks))
    ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(lambda i, m: augment(i, m, size), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(images: np.ndarray, masks: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """Un-augmented batches at the model size, for held-out model selection."""
    ds = tf.data.Dataset.from_tensor_slices(
        (images.astype(np.float32), binary(masks).astype(np.float32))
    )
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)

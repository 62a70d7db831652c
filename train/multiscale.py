"""Multi-scale prediction inside the model: the U-Net's map of its input averaged with its maps of
the same input resized to other sizes (each map resized back), in one Keras model with one set of
weights, so the converted TFLite file, the parity gate and every runtime see one model call.

    python -m train.multiscale runs/stage5/unet_float.keras --sizes 112 \
        --out models/unet_float.keras

Measured before choosing (model card, "Input scales"): the stage-5 U-Net at 128 px averaged with
itself at 112 px raised Dice on both held-out sets; larger extra sizes lowered it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import keras
from keras import layers

from train.model import unet_depth
from train.model_args import build_and_save, check_model_paths


def _copy_taking(model: keras.Model, shape: tuple[int | None, ...]) -> keras.Model:
    """A copy of `model` with its weights, taking inputs of `shape` (without the batch axis)."""
    copy = keras.models.clone_model(model, input_tensors=keras.Input(shape, name="image"))
    copy.set_weights(model.get_weights())
    return copy


def multiscale(unet: keras.Model, sizes: Sequence[int]) -> keras.Model:
    """A model taking `unet`'s input that averages `unet`'s map of it with its maps of the input
    resized (bilinear) to each of `sizes`, each resized back; `unet`'s weights, shared."""
    size = unet.input_shape[1]
    depth = unet_depth(unet)
    if not sizes or any(s <= 0 or s % 2**depth or s == size for s in sizes):
        raise ValueError(
            f"sizes must be other sizes than {size} px, each a multiple of {2**depth}, got {sizes}"
        )
    core = _copy_taking(unet, (None, None, 3))
    inputs = keras.Input((size, size, 3), name="image")
    # training=False pinned: a SavedModel export otherwise traces the nested U-Net's batch
    # normalization in training mode (batch statistics), and the TFLite file computes another map.
    maps = [core(inputs, training=False)]
    for other in sizes:
        resized = layers.Resizing(other, other, name=f"to_{other}")(inputs)
        mapped = core(resized, training=False)
        maps.append(layers.Resizing(size, size, name=f"from_{other}")(mapped))
    averaged = layers.Average(name="mask")(maps)
    return keras.Model(inputs, averaged, name=f"{unet.name}_multiscale")


def input_scales(model: keras.Model) -> int:
    """U-Net passes one call of a model runs: 1, plus one per extra size of `multiscale`."""
    return 1 + sum(bool(layer.name.startswith("to_")) for layer in model.layers)


def unet_of(model: keras.Model) -> keras.Model:
    """The U-Net a model computes with, taking the model's input size: a copy of the one inside
    a multi-scale model, else the model itself."""
    cores = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if not cores:
        return model
    return _copy_taking(cores[0], model.input_shape[1:])


def load_unet(path: Path) -> keras.Model:
    """Load a `.keras` model and return the U-Net it computes with (`unet_of`)."""
    return unet_of(keras.saving.load_model(path, compile=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.multiscale", description=__doc__)
    parser.add_argument("model", type=Path, help="trained .keras U-Net (or a multi-scale model)")
    parser.add_argument(
        "--sizes", type=int, nargs="+", required=True, help="the other input sizes, px"
    )
    parser.add_argument("--out", type=Path, required=True, help="where to save (.keras)")
    args = parser.parse_args(argv)
    check_model_paths(parser, [args.model], args.out)
    model = build_and_save(parser, lambda: multiscale(load_unet(args.model), args.sizes), args.out)
    print(f"{args.model} at {model.input_shape[1]} px and {args.sizes} px -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

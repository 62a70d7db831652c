"""Grow a trained U-Net wider without changing what it computes, to train further from there.

    python -m train.widen models/unet_float.keras --base-filters 24 \
        --out runs/widened/unet_float.keras

Each layer keeps its trained channels; the added channels take fresh random incoming weights and
zero outgoing weights, so the wider model's output equals the narrow one's until training moves
the zeros (function-preserving widening, as in Net2Net; gradients reach the zero weights at once).
Train it with `python -m train --init-from OUT --base-filters N`, or give `--init-from` the narrow
model itself: training widens it the same way (seeded by the run's `--seed`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import keras
import numpy as np
from keras import layers

from train.model import build_unet, unet_depth
from train.model_args import build_and_save, check_model_paths
from train.multiscale import load_unet

Channels = np.ndarray
"""Where a narrow tensor's channels sit in the wide one: index i holds channel i's new place."""


def _inbound(layer: keras.Layer) -> list[str]:
    """Names of the layers feeding `layer`, in input order."""
    inputs = layer.input if isinstance(layer.input, list) else [layer.input]
    return [tensor._keras_history.operation.name for tensor in inputs]


def _channels(shape: tuple[int | None, ...]) -> int:
    """The channel count of a (built) tensor shape."""
    channels = shape[-1]
    assert channels is not None
    return channels


def _placed(
    fresh: np.ndarray, old: np.ndarray, in_axis: int, out_axis: int, ins: Channels
) -> np.ndarray:
    """`fresh` (a wide kernel) with the old kernel at its old inputs and outputs, and zero weight
    from the new inputs into the old outputs."""
    kernel = np.moveaxis(fresh.copy(), (in_axis, out_axis), (-2, -1))
    narrow = np.moveaxis(old, (in_axis, out_axis), (-2, -1))
    kept_out = narrow.shape[-1]
    kernel[..., :kept_out] = 0.0
    kernel[..., ins, :kept_out] = narrow
    return np.moveaxis(kernel, (-2, -1), (in_axis, out_axis))


def widen_into(narrow: keras.Model, wide: keras.Model) -> None:
    """Set `wide`'s weights (same layer names and depth, more channels) so it computes what
    `narrow` computes; its added channels keep their random incoming weights."""
    places: dict[str, Channels] = {}
    for layer in narrow.layers:
        sources = [] if isinstance(layer, layers.InputLayer) else _inbound(layer)
        if not sources:
            places[layer.name] = np.arange(_channels(layer.output.shape))
        elif isinstance(layer, layers.Concatenate):
            widths = [_channels(wide.get_layer(source).output.shape) for source in sources]
            offsets = np.cumsum([0, *widths[:-1]])
            places[layer.name] = np.concatenate(
                [places[s] + offset for s, offset in zip(sources, offsets, strict=True)]
            )
        else:
            places[layer.name] = _widen_layer(layer, wide.get_layer(layer.name), places[sources[0]])


def _widen_layer(layer: keras.Layer, target: keras.Layer, ins: Channels) -> Channels:
    """Set `target` (the wide twin of `layer`, whose input channels sit at `ins`); return where
    its output channels sit."""
    old, fresh = layer.get_weights(), target.get_weights()
    if isinstance(layer, layers.Conv2D | layers.Conv2DTranspose):
        transposed = isinstance(layer, layers.Conv2DTranspose)  # kernel (..., out, in)
        in_axis, out_axis = (-1, -2) if transposed else (-2, -1)
        kernel = _placed(fresh[0], old[0], in_axis, out_axis, ins)
        biases = [_at(fresh[1], old[1], np.arange(len(old[1])))] if len(old) > 1 else []
        target.set_weights([kernel, *biases])
        return np.arange(_channels(layer.output.shape))
    if isinstance(layer, layers.BatchNormalization):
        target.set_weights([_at(f, o, ins) for f, o in zip(fresh, old, strict=True)])
    elif old:
        raise ValueError(f"cannot widen layer {layer.name} ({type(layer).__name__})")
    return ins


def _at(fresh: np.ndarray, old: np.ndarray, places: Channels) -> np.ndarray:
    """A per-channel vector of the wide layer with the old values at their places."""
    vector = fresh.copy()
    vector[places] = old
    return vector


def base_width(model: keras.Model) -> int:
    """A U-Net's base width: its first convolution's channels."""
    return _channels(model.get_layer("enc0_conv1").output.shape)


def init_from(model: keras.Model, source: keras.Model) -> None:
    """Start `model` from `source`'s weights: copied when the widths match, widened when `source`
    is a narrower U-Net of the same depth (so `model` starts computing what it does)."""
    width, source_width = base_width(model), base_width(source)
    if source_width > width:
        raise ValueError(f"cannot start base {width} from a wider model (base {source_width})")
    if source_width == width:
        model.set_weights(source.get_weights())
    else:
        widen_into(source, model)


def widened(narrow: keras.Model, base_filters: int) -> keras.Model:
    """A U-Net `base_filters` wide (at least the narrow one's) computing what `narrow` does."""
    depth = unet_depth(narrow)
    narrow_base = base_width(narrow)
    if base_filters < narrow_base:
        raise ValueError(f"base {base_filters} is narrower than the model's {narrow_base}")
    wide = build_unet(narrow.input_shape[1], base_filters, depth)
    widen_into(narrow, wide)
    return wide


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.widen", description=__doc__)
    parser.add_argument("model", type=Path, help="trained .keras U-Net")
    parser.add_argument("--base-filters", type=int, required=True, help="the new width")
    parser.add_argument("--out", type=Path, required=True, help="where to save (.keras)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the added weights")
    args = parser.parse_args(argv)
    check_model_paths(parser, [args.model], args.out)
    keras.utils.set_random_seed(args.seed)
    wide = build_and_save(
        parser, lambda: widened(load_unet(args.model), args.base_filters), args.out
    )
    print(f"widened {args.model} to base {args.base_filters}: {wide.count_params():,} weights")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

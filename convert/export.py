"""Convert a Keras U-Net to the TFLite flavours."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from convert.flavours import FLAVOURS

if TYPE_CHECKING:
    import keras


def _configure(
    converter: tf.lite.TFLiteConverter,
    flavour: str,
    representative: Callable[[], Iterable[list[np.ndarray]]] | None,
) -> None:
    if flavour == "float32":
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if flavour == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif flavour == "int8":
        if representative is None:
            raise ValueError("full-integer int8 needs a representative dataset")
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        # uint8 I/O: pixel bytes feed straight in (scale 1, zero point 0, as the model takes
        # 0..255 and rescales inside) and the sigmoid comes out in steps of 1/256.
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    elif flavour != "dynamic":
        raise ValueError(f"flavour must be one of {FLAVOURS}, got {flavour!r}")


def saved_model(model: keras.Model, directory: Path) -> Path:
    """Export the Keras model as a SavedModel with a batch-1 signature (keeps XNNPACK paths)."""
    size = model.input_shape[1]
    model.export(
        str(directory),
        format="tf_saved_model",
        input_signature=[tf.TensorSpec((1, size, size, 3), tf.float32)],
        verbose=False,
    )
    return directory


def convert(
    model: keras.Model,
    flavours: Iterable[str],
    representative: Callable[[], Iterable[list[np.ndarray]]] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Yield (flavour, .tflite bytes) for a Keras model, exporting it once."""
    with tempfile.TemporaryDirectory() as tmp:
        exported = saved_model(model, Path(tmp) / "saved_model")
        for flavour in flavours:
            converter = tf.lite.TFLiteConverter.from_saved_model(str(exported))
            _configure(converter, flavour, representative)
            yield flavour, converter.convert()

"""Device set-up for training: mixed precision on GPU, data parallelism on several GPUs."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

import keras


def _gpu_count() -> int:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return len(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return len([d for d in jax.devices() if d.platform == "gpu"])
    return 0


def device_description() -> str:
    """What the training runs on, for the run's config: accelerators, or the CPU's cores."""
    gpus = _gpu_count()
    if gpus and keras.backend.backend() == "jax":
        import jax

        kinds = [d.device_kind for d in jax.devices() if d.platform == "gpu"]
        return f"{len(kinds)} x {kinds[0]}"
    if gpus:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
        return f"{len(gpus)} x {name}"
    return f"CPU ({os.cpu_count()} cores)"


@contextlib.contextmanager
def strategy_scope() -> Iterator[None]:
    """Scope to build and compile the model in; sets the precision policy for the devices."""
    gpus = _gpu_count()
    if gpus:
        jax = keras.backend.backend() == "jax"
        keras.mixed_precision.set_global_policy("mixed_bfloat16" if jax else "mixed_float16")
    if gpus > 1 and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with tf.distribute.MirroredStrategy().scope():
            yield
        return
    if gpus > 1:
        keras.distribution.set_distribution(keras.distribution.DataParallel())
    yield


class EpochTimer(keras.callbacks.Callback):
    """Adds the epoch's wall time (seconds) to the logs, so the history CSV records it."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["epoch_seconds"] = round(time.perf_counter() - self._start, 1)

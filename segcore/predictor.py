"""The TFLite predictor the API serves with, over either TFLite runtime (one small adapter).

Runtimes, by name: "litert" (`ai-edge-litert`, the default and the one the Lambda ships),
"tflite-runtime" (the frozen `tflite-runtime` 2.14) and "tensorflow" (`tf.lite`, for tools that
already have TensorFlow). All expose the same Interpreter API.

An interpreter holds its tensors between `set_tensor`, `invoke` and `get_tensor`, so one must
never serve two threads at once. The predictor lends each call an interpreter of its own from a
bounded pool, created on first need: one caller at a time (a Lambda) only ever makes one.

An image's mirror images go through the model in one call: the interpreter's input is resized
to a batch of `flips` (the same kernels per image, so the same maps as one call per mirror, with
one call's overhead; benchmarks/one_pass_ladder.json). A file whose input cannot be resized is
called once per mirror.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from segcore.decoding import Decoded
from segcore.flips import TEST_TIME_FLIPS, averaged, maps_back, views_of
from segcore.processing import mask_image, preprocess, probability_image
from segcore.timing import latency_ms

RUNTIMES = {
    "litert": ("ai_edge_litert.interpreter", "ai-edge-litert"),
    "tflite-runtime": ("tflite_runtime.interpreter", "tflite-runtime"),
    "tensorflow": ("tensorflow.lite", "tensorflow-cpu"),
}
DEFAULT_RUNTIME = "litert"


@dataclass(frozen=True)
class RuntimeInfo:
    name: str
    version: str


def load_interpreter_class(runtime: str = DEFAULT_RUNTIME) -> tuple[type, RuntimeInfo]:
    """Import the Interpreter class of a runtime; ImportError if it is not installed."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {sorted(RUNTIMES)}, got {runtime!r}")
    module_name, distribution = RUNTIMES[runtime]
    module = importlib.import_module(module_name)
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        version = getattr(module, "__version__", "unknown")
    return module.Interpreter, RuntimeInfo(runtime, version)


@dataclass(frozen=True)
class Segmented:
    """A segmentation at the image's own size, and the model's own-resolution probabilities."""

    mask: Image.Image
    """mode "L", (width, height) of the image: 255 = lesion, 0 = skin."""
    probability_map: Image.Image | None
    """mode "L", (width, height): lesion probability x 255, what the mask thresholds (kept
    only on request: at full size it weighs as much as the mask)."""
    probabilities: np.ndarray
    """(S, S) float32 lesion probabilities on the model's input grid."""
    width: int
    height: int


class TFLitePredictor:
    """A batch-1 segmentation .tflite model: uint8 pixels in, lesion probabilities out.

    Thread-safe: at most `pool_size` interpreters (each with `num_threads` threads) run at once.
    Each prediction averages `flips` mirror images (segcore.flips; 1 gives the raw model).
    """

    def __init__(
        self,
        model: Path | str | bytes,
        runtime: str = DEFAULT_RUNTIME,
        num_threads: int = 2,
        pool_size: int = 1,
        flips: int = TEST_TIME_FLIPS,
    ) -> None:
        if pool_size < 1:
            raise ValueError(f"pool_size must be >= 1, got {pool_size}")
        interpreter_class, self.runtime = load_interpreter_class(runtime)
        source: dict[str, bytes | str] = (
            {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
        )
        self.pool_size = pool_size
        self.flips = flips
        self._make_interpreter = functools.partial(
            interpreter_class, **source, num_threads=num_threads
        )
        self.batched_mirrors = flips > 1
        try:
            first = self._new_interpreter()
        except (RuntimeError, ValueError):  # a fixed batch of one: a call per mirror
            self.batched_mirrors = False
            first = self._new_interpreter()
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._idle.put(first)
        self._created = 1
        self._slots = threading.BoundedSemaphore(pool_size)
        self._create_lock = threading.Lock()
        (self._input,) = first.get_input_details()
        (self._output,) = first.get_output_details()
        batch, height, width, channels = self._input["shape"]
        if batch != (self.flips if self.batched_mirrors else 1) or height != width or channels != 3:
            raise ValueError(f"expected a (1, S, S, 3) model input, got {self._input['shape']}")
        self.input_size = int(height)
        self.input_dtype = np.dtype(self._input["dtype"]).name
        self.flavour = self._flavour(first)
        self.unet_passes_per_call = _sigmoids(first)

    @property
    def unet_passes(self) -> int:
        """U-Net passes one prediction runs: the mirrors x the file's passes per call."""
        return self.flips * self.unet_passes_per_call

    def _new_interpreter(self) -> Any:
        interpreter = self._make_interpreter()
        if self.batched_mirrors:
            (details,) = interpreter.get_input_details()
            size = details["shape"][1]
            interpreter.resize_tensor_input(details["index"], [self.flips, size, size, 3])
        interpreter.allocate_tensors()
        return interpreter

    @property
    def interpreters_created(self) -> int:
        """How many interpreters exist (grows on demand up to pool_size)."""
        return self._created

    @contextmanager
    def _interpreter(self) -> Iterator[Any]:
        """Lend the caller an interpreter no other thread uses until it is given back."""
        with self._slots:
            try:
                interpreter = self._idle.get_nowait()
            except queue.Empty:
                with self._create_lock:
                    interpreter = self._new_interpreter()
                    self._created += 1
            try:
                yield interpreter
            finally:
                self._idle.put(interpreter)

    def _flavour(self, interpreter: Any) -> str:
        """Which of our conversion flavours this is, read from the tensor types."""
        if self.input_dtype in ("uint8", "int8"):
            return "int8"
        types = {np.dtype(t["dtype"]).name for t in interpreter.get_tensor_details()}
        if "float16" in types:
            return "float16"
        return "dynamic" if "int8" in types else "float32"

    def _quantize(self, pixels: np.ndarray) -> np.ndarray:
        dtype = self._input["dtype"]
        if np.issubdtype(dtype, np.floating):
            return pixels.astype(dtype)
        scale, zero_point = self._input["quantization"]
        if scale == 1.0 and zero_point == 0 and dtype == np.uint8:
            return pixels.astype(np.uint8)  # raw pixel bytes feed straight in
        info = np.iinfo(dtype)
        values = np.round(pixels.astype(np.float32) / scale + zero_point)
        clipped: np.ndarray = np.clip(values, info.min, info.max).astype(dtype)
        return clipped

    def _dequantize(self, values: np.ndarray) -> np.ndarray:
        if np.issubdtype(values.dtype, np.floating):
            return values.astype(np.float32)
        scale, zero_point = self._output["quantization"]
        real: np.ndarray = (values.astype(np.float32) - zero_point) * scale
        return real

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Probability maps (N, S, S) for model inputs (N, S, S, 3) uint8 from `preprocess`,
        averaged over `flips` mirror images (segcore.flips), all on one lent interpreter."""
        with self._interpreter() as interpreter:
            return np.concatenate(
                [averaged(self._mirror_maps(interpreter, pixels)) for pixels in batch]
            )

    def mirror_maps(self, pixels: np.ndarray) -> list[np.ndarray]:
        """Each of the `flips` views' maps (1, S, S) of one model input (S, S, 3), mapped back
        onto its grid, in the order `predict` averages them (for studies of the mirrors)."""
        with self._interpreter() as interpreter:
            return self._mirror_maps(interpreter, pixels)

    def _mirror_maps(self, interpreter: Any, pixels: np.ndarray) -> list[np.ndarray]:
        """One image's `flips` views in one call (or one call each), mapped back."""
        views = views_of(pixels, self.flips)
        if self.batched_mirrors:
            maps = self._call(interpreter, views)
        else:
            maps = np.concatenate([self._call(interpreter, view[None]) for view in views])
        return maps_back(maps)

    def _call(self, interpreter: Any, inputs: np.ndarray) -> np.ndarray:
        """One interpreter call on inputs of its input's batch size: maps (B, S, S)."""
        interpreter.set_tensor(self._input["index"], self._quantize(inputs))
        interpreter.invoke()
        maps: np.ndarray = self._dequantize(interpreter.get_tensor(self._output["index"]))
        return maps[..., 0]

    def latency_ms(
        self, batch: np.ndarray | None = None, repeats: int = 30, warmup: int = 3
    ) -> dict[str, float]:
        """p50/p95 milliseconds of `predict` on `batch` (default: one seeded random input)."""
        if batch is None:
            size = self.input_size
            batch = np.random.default_rng(0).integers(0, 256, (1, size, size, 3), dtype=np.uint8)
        inputs = batch
        return latency_ms(lambda: self.predict(inputs), repeats, warmup)

    def segment(self, image: Decoded, keep_probability_map: bool = True) -> Segmented:
        """The lesion mask of a decoded image at its own full size (see segcore.decoding)."""
        probabilities = self.predict(preprocess(image.pixels, self.input_size)[None])[0]
        full_size = probability_image(probabilities, image.width, image.height)
        mask = mask_image(full_size)
        kept = full_size if keep_probability_map else None
        del full_size
        return Segmented(mask, kept, probabilities, image.width, image.height)


def _sigmoids(interpreter: Any) -> int:
    """U-Net passes in one call of a file: each U-Net ends in one sigmoid (LOGISTIC), the only
    one it has, so a file averaging two input scales has two."""
    ops: list[dict[str, Any]] = interpreter._get_ops_details()
    return max(1, sum(1 for op in ops if op["op_name"] == "LOGISTIC"))

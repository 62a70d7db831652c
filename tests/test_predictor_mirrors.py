"""An image's mirrors in one interpreter call (segcore.predictor): the same maps as one call per
mirror, for the fixture model and the deployed file, also where the input cannot be resized; and
the U-Net passes a prediction runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segcore import predictor as predictor_module
from segcore.flips import TEST_TIME_FLIPS, flip_averaged
from segcore.predictor import TFLitePredictor

ROOT = Path(__file__).parent.parent
TINY = ROOT / "tests" / "fixtures" / "models" / "unet_tiny_int8.tflite"
DEPLOYED = ROOT / "models" / "unet.tflite"


def _inputs(size: int) -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (3, size, size, 3), dtype=np.uint8)


@pytest.mark.parametrize("model", [TINY, DEPLOYED], ids=["fixture", "deployed"])
@pytest.mark.parametrize("flips", [2, 4, 8])
def test_mirrors_in_one_call_equal_one_call_each(model: Path, flips: int) -> None:
    batched = TFLitePredictor(model, flips=flips)
    assert batched.batched_mirrors
    one_each = TFLitePredictor(model, flips=1)
    x = _inputs(batched.input_size)
    np.testing.assert_array_equal(batched.predict(x), flip_averaged(one_each.predict, x, flips))


def test_a_file_that_cannot_be_resized_is_called_once_per_mirror(monkeypatch) -> None:
    interpreter_class, _ = predictor_module.load_interpreter_class()

    class FixedBatch(interpreter_class):  # type: ignore[misc, valid-type]
        def resize_tensor_input(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("fixed batch")

    monkeypatch.setattr(
        predictor_module, "load_interpreter_class", lambda runtime: (FixedBatch, None)
    )
    fixed = TFLitePredictor(TINY, flips=4)
    monkeypatch.undo()
    assert not fixed.batched_mirrors
    x = _inputs(fixed.input_size)
    np.testing.assert_array_equal(fixed.predict(x), TFLitePredictor(TINY, flips=4).predict(x))


def test_passes_count_mirrors_and_input_scales() -> None:
    assert TFLitePredictor(TINY, flips=1).unet_passes == 1
    assert TFLitePredictor(TINY, flips=4).unet_passes == 4
    deployed = TFLitePredictor(DEPLOYED)
    assert deployed.unet_passes == TEST_TIME_FLIPS * deployed.unet_passes_per_call
    first, *rest = TFLitePredictor(DEPLOYED, flips=4).mirror_maps(_inputs(128)[0])
    assert len(rest) == 3 and first.shape == (1, 128, 128)

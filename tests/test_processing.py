"""The shared pre/post-processing: sizes, orientation, image modes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from segcore.processing import (
    THRESHOLD,
    mask_lut,
    postprocess,
    preprocess,
    resize_mask,
    to_rgb_array,
)


def _corner_lesion(height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    mask[: height // 3, : width // 4] = 255  # top-left, wider than tall
    return mask


@pytest.mark.parametrize(("height", "width"), [(192, 256), (767, 1022), (128, 128), (301, 97)])
def test_round_trip_returns_the_mask_at_the_original_size(height: int, width: int) -> None:
    mask = _corner_lesion(height, width)
    probabilities = resize_mask(mask, 64)  # what a perfect model would output at 64 px
    restored = postprocess(probabilities, height, width)
    assert restored.shape == (height, width) and restored.dtype == np.uint8
    assert set(np.unique(restored).tolist()) <= {0, 255}
    iou = np.logical_and(restored, mask).sum() / np.logical_or(restored, mask).sum()
    assert iou > 0.9
    assert restored[0, 0] == 255 and restored[-1, -1] == 0  # not flipped or transposed


def test_preprocess_keeps_orientation_and_pixels() -> None:
    image = np.zeros((200, 300, 3), np.uint8)
    image[:50, :, 0] = 255  # red band at the top
    x = preprocess(image, 64)
    assert x.shape == (64, 64, 3) and x.dtype == np.uint8
    assert x[0, 32, 0] == 255 and x[-1, 32, 0] == 0


def test_preprocess_rejects_non_rgb() -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        preprocess(np.zeros((10, 10), np.uint8), 32)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "CMYK", "I;16", "LA"])
def test_every_image_mode_becomes_rgb(mode: str) -> None:
    image = Image.new("RGB", (20, 10), (200, 100, 50)).convert(mode)
    rgb = to_rgb_array(image)
    assert rgb.shape == (10, 20, 3) and rgb.dtype == np.uint8


def test_16_bit_greyscale_is_scaled_to_8_bit() -> None:
    image = Image.fromarray(np.full((4, 4), 60000, np.uint16))
    assert to_rgb_array(image).max() == 255


@pytest.mark.parametrize(("threshold", "highest_skin_level"), [(THRESHOLD, 127), (0.6, 153)])
def test_a_level_is_lesion_only_above_the_threshold(
    threshold: float, highest_skin_level: int
) -> None:
    """0.6 x 255 is exactly 153: that level is not above it, so it stays skin."""
    lut = mask_lut(threshold)
    assert set(lut[: highest_skin_level + 1]) == {0}
    assert set(lut[highest_skin_level + 1 :]) == {255}

"""Test-time flips: every mirror's map is mapped back onto the input's grid before averaging."""

from __future__ import annotations

import numpy as np
import pytest

from segcore.flips import flip_averaged


def _first_channel(batch: np.ndarray) -> np.ndarray:
    """A 'model' that commutes with mirroring: its map is the image's red channel."""
    return batch[..., 0].astype(np.float32) / 255


def _position_bound(batch: np.ndarray) -> np.ndarray:
    """A 'model' that does not: it marks the left half, whatever the image."""
    maps = np.zeros(batch.shape[:3], np.float32)
    maps[:, :, : batch.shape[2] // 2] = 1.0
    return maps


@pytest.mark.parametrize("flips", [1, 2, 4, 8])
def test_mirrors_are_mapped_back(flips: int) -> None:
    batch = np.random.default_rng(0).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    averaged = flip_averaged(_first_channel, batch, flips)
    np.testing.assert_allclose(averaged, _first_channel(batch), atol=1e-6)


def test_averaging_really_happens() -> None:
    batch = np.zeros((1, 8, 8, 3), np.uint8)
    assert flip_averaged(_position_bound, batch, 1)[0, 0, 0] == 1.0
    # The left-right mirror's "left half" maps back onto the right half: 0.5 everywhere.
    np.testing.assert_allclose(flip_averaged(_position_bound, batch, 2), 0.5)
    np.testing.assert_allclose(flip_averaged(_position_bound, batch, 4), 0.5)
    # Transposed views mark the top half, mapped back: the top and bottom halves, 0.5 again.
    np.testing.assert_allclose(flip_averaged(_position_bound, batch, 8), 0.5)


def test_only_known_flip_counts() -> None:
    with pytest.raises(ValueError, match="flips"):
        flip_averaged(_first_channel, np.zeros((1, 4, 4, 3), np.uint8), 3)

"""The second look at a small lesion (segcore.second_look, measured and not served: see
benchmarks/second_look.json) and the connected components it and the quality estimate use."""

from __future__ import annotations

import numpy as np
import pytest

from segcore.components import components
from segcore.processing import THRESHOLD
from segcore.second_look import Look, Policy, combined_image, crop_box, focus, second_look

SIZE = 128
POLICY = Policy(trigger=0.10, margin=0.5, combination="replace")


def blob(top: int, left: int, side: int, level: float = 0.95) -> np.ndarray:
    first = np.full((SIZE, SIZE), 0.02, np.float32)
    first[top : top + side, left : left + side] = level
    return first


def test_components_join_diagonals_and_keep_separate_parts_apart() -> None:
    mask = np.zeros((6, 6), bool)
    mask[0, 0] = mask[1, 1] = True  # diagonal neighbours: one part
    mask[4:6, 3:6] = True
    mask[0, 5] = True
    labels, count = components(mask)
    assert count == 3
    assert labels[0, 0] == labels[1, 1] != labels[4, 4] != labels[0, 5]
    assert (labels[~mask] == 0).all() and set(np.unique(labels[mask])) == {1, 2, 3}
    assert components(np.ones((3, 3), bool))[1] == 1 and components(np.zeros((3, 3), bool))[1] == 0


def test_components_of_a_ring_and_a_comb() -> None:
    ring = np.zeros((20, 20), bool)
    ring[2:18, 2:18] = True
    ring[4:16, 4:16] = False
    ring[8:12, 8:12] = True  # an island inside the ring
    comb = np.zeros((10, 10), bool)
    comb[9, :] = True
    comb[::2, ::2] = True  # row 8's points touch the bottom row; rows 0-6's are alone
    assert components(ring)[1] == 2
    labels, count = components(comb)
    assert count == 1 + 4 * 5 and labels[9, 0] == labels[8, 0] != labels[6, 0]


def pixels(width: int = 512, height: int = 384) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


class Recorder:
    """A stand-in model: records the crops it is given, answers a fixed map."""

    def __init__(self, answer: np.ndarray) -> None:
        self.answer = answer
        self.calls: list[np.ndarray] = []

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.calls.append(batch)
        return self.answer[None]


def test_it_looks_again_at_a_small_lesion_and_not_at_a_large_one() -> None:
    model = Recorder(blob(30, 30, 60))
    small = second_look(model, pixels(), blob(60, 70, 12), POLICY)
    assert small is not None and len(model.calls) == 1
    assert model.calls[0].shape == (1, SIZE, SIZE, 3)
    box = small.box  # around the lesion (x 70..82, y 60..72 of 128, on a 512 x 384 image)
    assert box.left <= 70 * 4 and box.right >= 82 * 4 and box.top <= 60 * 3 and box.bottom >= 72 * 3
    assert box.width == box.height  # square where it fits
    assert second_look(model, pixels(), blob(20, 20, 80), POLICY) is None
    assert len(model.calls) == 1
    assert second_look(model, pixels(), np.full((SIZE, SIZE), 0.1, np.float32), POLICY) is None


def test_a_faint_lesion_is_found_below_the_threshold() -> None:
    found = focus(blob(10, 10, 8, level=0.35))
    assert found is not None and found.share == pytest.approx(64 / SIZE**2)


def test_the_crop_stays_inside_the_image() -> None:
    found = focus(blob(0, 120, 8))
    assert found is not None
    box = crop_box(found, 512, 384, margin=1.0)
    assert 0 <= box.left < box.right <= 512 and 0 <= box.top < box.bottom <= 384
    assert box.width == box.height


@pytest.mark.parametrize("combination", ["replace", "mean"])
def test_the_combination_never_loses_a_lesion_outside_the_crop(combination: str) -> None:
    first = blob(60, 70, 12)
    first[5:15, 5:15] = 0.9  # a second, less massive lesion far away
    policy = Policy(0.10, 0.5, combination)  # type: ignore[arg-type]
    look = second_look(Recorder(np.zeros((SIZE, SIZE), np.float32)), pixels(), first, policy)
    assert look is not None
    combined = np.asarray(combined_image(first, look, (512, 384), (1024, 768), combination)) / 255
    one_look = np.asarray(combined_image(first, None, (512, 384), (1024, 768), combination)) / 255
    crop = np.zeros(combined.shape, bool)
    b = look.box
    crop[b.top * 2 : b.bottom * 2, b.left * 2 : b.right * 2] = True
    assert np.array_equal(combined[~crop], one_look[~crop])
    assert (combined[36:84, 48:112] > THRESHOLD).all()  # the far lesion, as the first map had it
    inside = combined[crop]
    assert (inside <= (0.5 if combination == "mean" else 0.0) + 1e-6).all()


def test_no_look_is_the_first_map() -> None:
    first = blob(60, 70, 12)
    image = combined_image(first, None, (512, 384), (300, 200), "replace")
    assert image.size == (300, 200)
    found = focus(first)
    assert found is not None
    look = Look(crop_box(found, 512, 384, 0.5), first, found.share)
    assert combined_image(first, look, (512, 384), (300, 200), "mean").size == (300, 200)

"""The post-processing study's threshold variant thresholds exactly what is served."""

from __future__ import annotations

import numpy as np

from benchmarks.postprocess_study import thresholded
from segcore.processing import THRESHOLD, postprocess


def test_the_served_threshold_gives_the_served_mask_and_higher_ones_shrink_it() -> None:
    prob = np.random.default_rng(5).random((32, 32)).astype(np.float32)
    served = postprocess(prob, 90, 70)
    np.testing.assert_array_equal(thresholded(prob, 90, 70, THRESHOLD), served)
    higher = thresholded(prob, 90, 70, THRESHOLD + 0.1)
    assert 0 < np.count_nonzero(higher) < np.count_nonzero(served)
    assert not np.any(higher & ~served)

"""Peak memory of the worst accepted uploads, each in a fresh process, through the real app with
the committed model and default settings (benchmarks/memory.py is the measuring worker)."""

from __future__ import annotations

import pytest

from benchmarks.memory import CRAFTED, GOAL_PEAK_MB, WORST
from benchmarks.process import run_worker

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", WORST)
def test_a_worst_upload_peaks_below_the_goal_in_a_fresh_process(name: str) -> None:
    result = run_worker("benchmarks.memory", [str(CRAFTED / name), "--rounds", "1"])
    (request,) = result["requests"]
    assert request["status"] in (200, 422)
    assert request["peak_mb"] < GOAL_PEAK_MB, request


def test_a_warm_process_stays_flat_over_rounds_of_the_worst_uploads() -> None:
    files = [str(CRAFTED / name) for name in WORST]
    result = run_worker("benchmarks.memory", [*files, "--rounds", "4"])
    after_round = [r["rss_mb"] for r in result["requests"] if r["file"] == WORST[-1]]
    assert max(r["peak_mb"] for r in result["requests"]) < GOAL_PEAK_MB
    # what the first round leaves (allocator pools, caches) may stay; later rounds add nothing
    assert max(after_round[1:]) < after_round[0] + 40, after_round

"""Connected components of a small boolean grid (the model's output), without SciPy."""

from __future__ import annotations

import numpy as np


def components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components of a boolean grid: labels (0 = background, 1..n) and n.

    The runs of each row are joined with the runs they touch (diagonals too) in the row
    below by a union-find over runs, then numbered in order of their first pixel.
    """
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    steps = np.diff(padded, axis=1)
    run_rows, run_starts = np.nonzero(steps == 1)
    _, run_ends = np.nonzero(steps == -1)  # same order: row by row, left to right
    parent = list(range(len(run_rows)))

    def root(run: int) -> int:
        while parent[run] != run:
            parent[run] = parent[parent[run]]
            run = parent[run]
        return run

    first_of_row = np.searchsorted(run_rows, np.arange(height + 1))
    for row in range(height - 1):
        below = range(first_of_row[row + 1], first_of_row[row + 2])
        for a in range(first_of_row[row], first_of_row[row + 1]):
            for b in below:
                if run_starts[a] <= run_ends[b] and run_starts[b] <= run_ends[a]:
                    parent[root(b)] = root(a)
    roots = [root(run) for run in range(len(run_rows))]
    numbers: dict[int, int] = {}
    run_labels = np.asarray(
        [numbers.setdefault(r, len(numbers) + 1) for r in roots], dtype=np.int32
    )
    labels = np.zeros(mask.shape, dtype=np.int32)
    for run, label in enumerate(run_labels):
        labels[run_rows[run], run_starts[run] : run_ends[run]] = label
    return labels, len(numbers)

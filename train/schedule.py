"""The learning rate per epoch: one warm-up epoch, then cosine decay to the last epoch, where the
last epoch is the one a wall-clock budget still leaves room for (on a lent GPU, say)."""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

import keras

WARMUP_FACTOR = 0.1
"""The first epoch runs at this share of the peak rate."""
FLOOR = 0.02
"""The last epoch runs at this share of the peak rate."""


def cosine_rate(epoch: int, total: int, peak: float) -> float:
    """Learning rate of `epoch` (0-based) in a run of `total` epochs."""
    if epoch == 0:
        return peak * WARMUP_FACTOR
    progress = min(1.0, (epoch - 1) / max(1, total - 2))
    return peak * (FLOOR + (1 - FLOOR) * 0.5 * (1 + math.cos(math.pi * progress)))


class EpochSchedule(keras.callbacks.Callback):
    """Sets the learning rate at each epoch's start and logs it. With `budget_seconds`, it
    shortens the run to the epochs that fit in the budget (counted from this call's start, at
    the pace of the epochs after the first, which holds the compile) and stops there, so the
    decay still ends at its floor."""

    def __init__(self, epochs: int, peak: float, budget_seconds: float | None = None) -> None:
        super().__init__()
        self.epochs, self.total, self.peak, self.budget = epochs, epochs, peak, budget_seconds
        self._paces: list[float] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()
        self._first_epoch: int | None = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_start = time.perf_counter()
        if self._first_epoch is None:
            self._first_epoch = epoch
        self._rate = cosine_rate(epoch, self.total, self.peak)
        self.model.optimizer.learning_rate = self._rate

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = self._rate
        if self.budget is None:
            return
        now = time.perf_counter()
        left = self.budget - (now - self._start)
        if epoch == self._first_epoch:  # its time holds the compile: no pace yet
            self.model.stop_training = left <= now - self._epoch_start
            return
        self._paces.append(now - self._epoch_start)
        pace = statistics.median(self._paces[-5:])
        self.total = min(self.epochs, epoch + 1 + max(0, int(left // pace)))
        self.model.stop_training = epoch + 1 >= self.total

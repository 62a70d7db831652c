"""The per-epoch learning rate and the wall-clock budget that shortens a run (train.schedule)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest

from train import schedule
from train.schedule import FLOOR, WARMUP_FACTOR, EpochSchedule, cosine_rate


def test_rate_warms_up_then_decays_to_the_floor() -> None:
    rates = [cosine_rate(e, 10, 1e-3) for e in range(10)]
    assert rates[0] == pytest.approx(1e-3 * WARMUP_FACTOR)
    assert rates[1] == pytest.approx(1e-3)
    assert rates[-1] == pytest.approx(1e-3 * FLOOR)
    assert all(a > b for a, b in itertools.pairwise(rates[1:]))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _run(callback: EpochSchedule, clock: FakeClock, seconds: list[float]) -> list[float]:
    """Drive the callback through epochs of the given durations until it stops the run."""
    model = SimpleNamespace(optimizer=SimpleNamespace(learning_rate=0.0), stop_training=False)
    callback.set_model(model)
    callback.on_train_begin()
    rates = []
    for epoch, duration in enumerate(seconds):
        callback.on_epoch_begin(epoch)
        rates.append(model.optimizer.learning_rate)
        clock.now += duration
        callback.on_epoch_end(epoch, {})
        if model.stop_training:
            break
    return rates


def test_budget_ends_the_run_with_the_epochs_that_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(schedule.time, "perf_counter", clock)
    # 30 s of compile in the first epoch, then 10 s per epoch, in a 100 s budget: 7 more fit.
    rates = _run(EpochSchedule(1000, 1e-3, budget_seconds=100), clock, [40.0] + [10.0] * 50)
    assert len(rates) == 7
    assert rates[-1] == pytest.approx(1e-3 * FLOOR)  # the decay ends where the run ends


def test_without_a_budget_every_epoch_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(schedule.time, "perf_counter", clock)
    rates = _run(EpochSchedule(5, 1e-3), clock, [100.0] * 5)
    assert rates == [cosine_rate(e, 5, 1e-3) for e in range(5)]

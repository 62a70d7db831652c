"""A byte budget shared by concurrent requests: large images wait, small ones pass."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class MemoryBudget:
    """Lets requests run together while their reserved bytes fit `limit`.

    A request larger than the whole budget still runs, alone, so nothing is refused here (the
    upload limits do that); it only keeps two large decodes from peaking at the same time.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"the memory budget must be >= 1 byte, got {limit}")
        self.limit = limit
        self._in_use = 0
        self._changed = threading.Condition()

    @property
    def in_use(self) -> int:
        """Bytes reserved right now."""
        return self._in_use

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[None]:
        """Hold `nbytes` of the budget for the duration of the block (waits until they fit)."""
        with self._changed:
            self._changed.wait_for(lambda: self._in_use == 0 or self._in_use + nbytes <= self.limit)
            self._in_use += nbytes
        try:
            yield
        finally:
            with self._changed:
                self._in_use -= nbytes
                self._changed.notify_all()

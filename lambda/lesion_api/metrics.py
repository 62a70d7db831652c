"""Metrics in CloudWatch's Embedded Metric Format: one JSON document per line on stdout, which
CloudWatch Logs turns into metrics of namespace `LesionSegmentation` (no API call, no client at
INIT). Dimensions are kept to `Function` (api, batch) and, for refusals, `StatusCode`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from typing import Literal

NAMESPACE = "LesionSegmentation"
Unit = Literal["Count", "Milliseconds", "None"]
Function = Literal["api", "batch"]


def emf_document(
    function: Function,
    values: Mapping[str, tuple[float, Unit]],
    dimensions: Mapping[str, str] | None = None,
    timestamp_ms: int | None = None,
) -> dict[str, object]:
    """The EMF document of `values` ({name: (value, unit)}) under Function and `dimensions`."""
    extra = dict(dimensions or {})
    return {
        "_aws": {
            "Timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Function", *extra]],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in values.items()],
                }
            ],
        },
        "Function": function,
        **extra,
        **{name: value for name, (value, _) in values.items()},
    }


def _stdout(line: str) -> None:
    sys.stdout.write(line)
    sys.stdout.flush()  # a pipe is block-buffered: the line must reach the log at once


class Metrics:
    """Writes EMF documents for one function, or nothing when disabled (outside Lambda)."""

    def __init__(
        self, function: Function, enabled: bool, write: Callable[[str], object] | None = None
    ) -> None:
        self.function = function
        self.enabled = enabled
        self._write = write or _stdout

    def emit(
        self, values: Mapping[str, tuple[float, Unit]], dimensions: Mapping[str, str] | None = None
    ) -> None:
        if self.enabled and values:
            line = json.dumps(emf_document(self.function, values, dimensions))
            self._write(line + "\n")

"""Where the batch function reads and writes in its bucket (shared with the infra.batch client)."""

from __future__ import annotations

INCOMING = "incoming/"
RESULTS = "results/"
RESULT_SUFFIXES = (".mask.png", ".json", ".error.json")


def result_key(key: str, suffix: str) -> str:
    """results/NAME<suffix> for incoming/NAME."""
    return RESULTS + key.removeprefix(INCOMING) + suffix

"""edge/headers.json, the on-device app's response headers for every host: the headers sent with
every response, Cache-Control by path prefix ("*" the default), Content-Type by file suffix."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

HEADERS_FILE = Path(__file__).resolve().parent.parent / "edge" / "headers.json"


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(HEADERS_FILE.read_text())
    return spec


def headers() -> dict[str, str]:
    """The headers every response carries, {name: value}."""
    return dict(_spec()["headers"])


def cache_control(key: str) -> str:
    """Cache-Control for a site path ("vendor/x.js"): its longest listed prefix's, else "*"'s."""
    rules: dict[str, str] = _spec()["cache_control"]
    prefixes = [p for p in rules if p != "*" and key.startswith(p)]
    return rules[max(prefixes, key=len)] if prefixes else rules["*"]


def content_type(key: str) -> str | None:
    """Content-Type for a site path by its longest listed suffix; None when none is listed."""
    types: dict[str, str] = _spec()["content_types"]
    suffixes = [s for s in types if key.endswith(s)]
    return types[max(suffixes, key=len)] if suffixes else None

"""Where the batch function reads and writes in its bucket (shared with the infra.batch client)."""

from __future__ import annotations

import hashlib

INCOMING = "incoming/"
RESULTS = "results/"
RESULT_SUFFIXES = (".mask.png", ".json", ".error.json")
MAX_KEY_BYTES = 1024
"""S3's longest object key (UTF-8 bytes)."""
HASH_CHARS = 16
"""Hex digits of the key's sha256 that end a shortened result stem."""
_STEM_BYTES = MAX_KEY_BYTES - max(len(s) for s in RESULT_SUFFIXES)


def result_stem(key: str) -> str:
    """results/NAME for incoming/NAME, one stem for all of an image's results.

    Where results/NAME plus the longest suffix would pass S3's 1,024-byte key limit, the stem is
    results/NAME cut (at a character boundary) to fit, then `~` and the first 16 hex digits of
    the whole key's sha256: still under the image's own folders, and one key for one image.
    """
    stem = RESULTS + key.removeprefix(INCOMING)
    encoded = stem.encode()
    if len(encoded) <= _STEM_BYTES:
        return stem
    digest = hashlib.sha256(key.encode()).hexdigest()[:HASH_CHARS]
    kept = encoded[: _STEM_BYTES - 1 - HASH_CHARS].decode(errors="ignore")
    return f"{kept}~{digest}"


def result_key(key: str, suffix: str) -> str:
    """results/NAME<suffix> for incoming/NAME (`result_stem` + suffix)."""
    return result_stem(key) + suffix

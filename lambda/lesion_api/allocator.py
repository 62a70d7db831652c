"""Hand large freed buffers straight back to the operating system (glibc's malloc).

glibc raises its mmap threshold each time a large mapped block is freed, after which blocks of
that size come from the heap, which fragments and does not shrink: a warm process that has
decoded a few 40 MP images would keep hundreds of MB. A fixed threshold keeps every buffer
above it mapped, so RSS returns to its resting level after each request.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_MMAP_THRESHOLD = -3  # from glibc's malloc.h


def fix_mmap_threshold(threshold_bytes: int) -> bool:
    """Set glibc's mmap threshold (disables its dynamic raising); False where not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        done = bool(libc.mallopt(M_MMAP_THRESHOLD, threshold_bytes))
    except (OSError, AttributeError):
        done = False
    if not done:
        log.info("the C library has no mallopt: large buffers are freed as it decides")
    return done

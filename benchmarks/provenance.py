"""When and where a committed result was measured, as every benchmark JSON records it (and
devtools.doc_tables reads it back)."""

from __future__ import annotations

import os
import platform
import time


def stamp() -> dict[str, str]:
    """`measured` (UTC, to the minute) and `machine` (architecture and core count)."""
    return {
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }

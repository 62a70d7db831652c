"""Peak resident memory of this process since it exec'd (not inherited from a forking parent)."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb() -> float:
    """VmHWM from /proc/self/status, in MB (ru_maxrss survives execve, so a child started by a
    large parent would report the parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")

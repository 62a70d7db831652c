"""Usage checks shared by the command lines that read trained `.keras` models and write one."""

from __future__ import annotations

import argparse
from pathlib import Path


def check_model_paths(parser: argparse.ArgumentParser, models: list[Path], out: Path) -> None:
    """Usage errors before anything loads: an output not ending in .keras, a missing model."""
    if out.suffix != ".keras":
        parser.error(f"--out must end in .keras, got {out}")
    if missing := [str(path) for path in models if not path.is_file()]:
        parser.error(f"no such model: {', '.join(missing)}")

"""Usage checks shared by the command lines that read trained `.keras` models and write one."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras


def check_model_paths(parser: argparse.ArgumentParser, models: list[Path], out: Path) -> None:
    """Usage errors before anything loads: an output not ending in .keras, a missing model."""
    if out.suffix != ".keras":
        parser.error(f"--out must end in .keras, got {out}")
    if missing := [str(path) for path in models if not path.is_file()]:
        parser.error(f"no such model: {', '.join(missing)}")


def build_and_save(
    parser: argparse.ArgumentParser, build: Callable[[], keras.Model], out: Path
) -> keras.Model:
    """Build the model a command writes and save it at `out`; an unreadable model or one that does
    not fit (OSError, ValueError while building) is a usage error."""
    try:
        model = build()
    except (OSError, ValueError) as error:
        parser.error(str(error))
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    return model

"""Bring back what `scripts/gpu_run.sh` left for one run: unpack NAME.tar into the runs folder
and join NAME.keras (or its NAME.keras.part-* pieces) into the run's unet_float.keras.

    python -m scripts.gpu_unpack --files /work/.device/.../out --name b32_192 --runs runs
"""

from __future__ import annotations

import argparse
import tarfile
from pathlib import Path


def unpack(files: Path, name: str, runs: Path) -> Path:
    """The run folder `runs/name`, with its model joined from the pieces that came back."""
    with tarfile.open(files / f"{name}.tar") as archive:
        archive.extractall(runs, filter="data")
    pieces = sorted(files.glob(f"{name}.keras.part-*")) or [files / f"{name}.keras"]
    missing = [p for p in pieces if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no model came back for {name}: {missing[0]}")
    model = runs / name / "unet_float.keras"
    with model.open("wb") as out:
        for piece in pieces:
            out.write(piece.read_bytes())
    return runs / name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.gpu_unpack", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--files", type=Path, required=True, help="the folder that came back")
    parser.add_argument("--name", required=True, help="the run's name in gpu_run.sh")
    parser.add_argument("--runs", type=Path, default=Path("runs"))
    args = parser.parse_args(argv)
    print(unpack(args.files, args.name, args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

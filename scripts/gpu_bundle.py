"""Prepare what a GPU run carries (`build/gpu/`, under the 64 MiB a device call takes): the
training and held-out packs of a split, and the wheels a machine without Keras needs.

    python -m scripts.gpu_bundle --data ../shared/data --split models/split.json --size 256

Then, on the GPU machine, `bash scripts/gpu_run.sh "NAME train-arguments"...` (see that script).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from isic.sets import select_samples
from train.pack import write_pack

WHEELS = ("keras==3.15.1", "namex==0.1.0", "optree==0.20.0")
"""What the GPU machine lacks (it has JAX, numpy, Pillow, h5py, tqdm, matplotlib: see the device
tool's KINDS.md)."""
CARRY_LIMIT = 64 * 2**20
FOLDERS = ("isic2018", "isic2018_fullview")


def download_wheels(out: Path, python_version: str) -> None:
    """Binary wheels of WHEELS for CPython `python_version` on manylinux x86-64."""
    platforms = [f"--platform=manylinux_2_{n}_x86_64" for n in (17, 27, 28)] + [
        "--platform=manylinux2014_x86_64"
    ]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            f"--python-version={python_version}",
            "--implementation=cp",
            *platforms,
            f"--dest={out}",
            *WHEELS,
        ],
        check=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.gpu_bundle", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, required=True, help="folder holding the ISIC folders")
    parser.add_argument("--split", type=Path, required=True, help="the split to train with")
    parser.add_argument("--size", type=int, default=256, help="pack size (>= the model size)")
    parser.add_argument("--python-version", default="3.12", help="the GPU machine's Python")
    parser.add_argument("--out", type=Path, default=Path("build/gpu"))
    args = parser.parse_args(argv)
    for part in ("train", "holdout"):
        sources = {f: select_samples(args.data / f, "training", args.split, part) for f in FOLDERS}
        count = write_pack(sources, args.size, args.out / f"pack_{part}.npz")
        print(f"{part}: {count} pairs at {args.size} px")
    download_wheels(args.out / "wheels", args.python_version)
    total = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"{args.out}: {total / 2**20:.1f} MiB (limit {CARRY_LIMIT / 2**20:.0f} MiB)")
    return 0 if total < CARRY_LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())

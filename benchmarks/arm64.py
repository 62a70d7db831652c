"""Does the served prediction give the same masks on arm64 (Graviton) as on x86_64?

template.yaml offers `Architecture: arm64`, and int8 kernels (XNNPACK) pick their code paths by
CPU. This runs the serving code (segcore: decode, preprocess, the deployed int8 model through
ai-edge-litert, postprocess, the served mask PNG) on aarch64 under qemu user-mode emulation, in
a Debian bookworm root with the serving pins of requirements/serve.txt, and compares every
input's mask and probability map with the same computed natively by .venv/bin/python. Timings
under emulation mean nothing and are kept only to size the run.

    sudo .venv/bin/python -m benchmarks.arm64 setup   # the root and its venv (idempotent)
    sudo .venv/bin/python -m benchmarks.arm64 run [--per-set N] [--cpu neoverse-n1 max ...]
    sudo .venv/bin/python -m benchmarks.arm64 run --add --cpu max --qemu path/to/qemu-aarch64

`--add` keeps the JSON's runs of other CPU models; `--qemu` runs another qemu-user build (say
bookworm-backports' qemu-user 10, unpacked with dpkg -x) explicitly instead of the binfmt one.
XNNPACK only runs when cpuinfo can read /sys and /proc/cpuinfo, which qemu user mode passes
through from the x86 host: the root gets a Graviton's (fake_cpu_files), and a run where the
delegate was not created is an error.

Both need root (debootstrap, chroot, bind mounts) and, for `setup`, the Debian mirror and
PyPI. The scratch space is .docker-build/arm64/ (gitignored). `worker` is the entry point both
Pythons run; it imports only segcore, numpy, Pillow and the runtime.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from segcore.encoding import mask_png_bytes

ROOT = Path(__file__).resolve().parent.parent
DATA = (ROOT.parent / "shared" / "data").resolve()
BUILD = ROOT / ".docker-build" / "arm64"
ROOTFS = BUILD / "rootfs"
WHEELS = BUILD / "wheels"
OUT = BUILD / "out"
GUEST_VENV = "/opt/venv"
GUEST_WHEELS = "/opt/wheels"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
SERVE_PINS = ("numpy", "pillow", "ai-edge-litert")
"""The serving pins of requirements/serve.txt that segcore needs (the rest is the web stack)."""
QEMU_CPUS = {
    "neoverse-n1": "neoverse-n1",
    "max": "max",
    "max-sme-off-sve256": "max,sme=off,sve-default-vector-length=32",
}
"""qemu CPU models (QEMU_CPU): neoverse-n1 is Graviton2's core (NEON dot product, no i8mm, no
SVE); max has every feature qemu 7.2 emulates (SVE2, i8mm, bf16, SME among them: a superset of
any Graviton); max without SME at 256-bit SVE is the nearest qemu 7.2 comes to Graviton3's
Neoverse V1 (which has SVE at 256 bits and i8mm, though not SVE2)."""
CPUS = tuple(QEMU_CPUS)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
DICE_TOLERANCE = 0.005
TJ_TOLERANCE = 0.02
"""The parity gate's default allowed drops (convert.gate): Dice and thresholded Jaccard."""
XNNPACK_LINE = "Created TensorFlow Lite XNNPACK delegate"
JSON_PATH = ROOT / "benchmarks" / "arm64.json"

Item = dict[str, str]
"""One input: {"set", "id", "image"} and, where there is one, "truth" (the ground-truth mask)."""


# ---------------------------------------------------------------- the worker (both Pythons)


def mask_png(mask: Image.Image) -> bytes:
    """The 0/255 mask (mode L) as a PNG with Pillow's defaults."""
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    return buffer.getvalue()


def mask_file(image_id: str) -> str:
    """The file name of an input's mask (fixture ids are paths)."""
    return image_id.replace("/", "__") + ".png"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hwcaps() -> dict[str, str]:
    """The ISA features the kernel (here: qemu) reports, which cpuinfo and so XNNPACK read."""
    import ctypes

    try:
        getauxval = ctypes.CDLL(None).getauxval
    except (OSError, AttributeError):
        return {}
    getauxval.restype = ctypes.c_ulong
    getauxval.argtypes = [ctypes.c_ulong]
    return {"AT_HWCAP": hex(getauxval(16)), "AT_HWCAP2": hex(getauxval(26))}


def versions() -> dict[str, str]:
    """This Python's machine and the versions that make the prediction."""
    import importlib.metadata

    found = {name: importlib.metadata.version(name) for name in SERVE_PINS}
    return {
        "machine": platform.machine(),
        **hwcaps(),
        "python": platform.python_version(),
        "libc": "-".join(platform.libc_ver()),
        **found,
    }


def worker(items: Sequence[Item], out: Path) -> dict[str, Any]:
    """Segment every item as the API does; write each mask PNG under out/masks/<set>/, each
    set's probability maps (N, S, S) to out/<set>.npy; return the per-item records."""
    from segcore.decoding import read_for_model
    from segcore.paths import DEPLOYED_MODEL
    from segcore.predictor import TFLitePredictor

    predictor = TFLitePredictor(DEPLOYED_MODEL)
    size = predictor.input_size
    records: list[dict[str, Any]] = []
    maps: dict[str, list[np.ndarray]] = {}
    start = time.perf_counter()
    for item in items:
        record: dict[str, Any] = {"set": item["set"], "id": item["id"]}
        began = time.perf_counter()
        try:
            with Image.open(item["image"]) as opened:
                segmented = predictor.segment(
                    read_for_model(opened, size), keep_probability_map=False
                )
        except Exception as error:  # the fixtures include files the decoder must refuse
            record["error"] = f"{type(error).__name__}: {error}"[:200]
            probabilities = np.full((size, size), np.nan, np.float32)
        else:
            png = mask_png(segmented.mask)
            folder = out / "masks" / item["set"]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / mask_file(item["id"])).write_bytes(png)
            record.update(
                width=segmented.width,
                height=segmented.height,
                mask_sha256=sha256(segmented.mask.tobytes()),
                mask_png_sha256=sha256(png),
                served_png_sha256=sha256(mask_png_bytes(segmented.mask)),
                probabilities_sha256=sha256(segmented.probabilities.tobytes()),
            )
            probabilities = segmented.probabilities.astype(np.float32)
        record["seconds"] = time.perf_counter() - began
        maps.setdefault(item["set"], []).append(probabilities)
        records.append(record)
    for name, stacked in maps.items():
        np.save(out / f"{name}.npy", np.stack(stacked))
    return {
        "versions": versions(),
        "model_sha256": sha256(DEPLOYED_MODEL.read_bytes()),
        "input_size": size,
        "flips": predictor.flips,
        "num_threads": 2,
        "seconds": time.perf_counter() - start,
        "records": records,
    }


# ---------------------------------------------------------------- the aarch64 root


def sh(command: Sequence[str | Path], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(map(str, command)), flush=True)
    return subprocess.run([str(c) for c in command], check=True, text=True, **kwargs)


def binfmt_ready() -> None:
    """Mount binfmt_misc and enable the qemu-aarch64 handler (qemu-user-static's, flag F: the
    interpreter is opened when registered, so it works inside the chroot)."""
    misc = Path("/proc/sys/fs/binfmt_misc")
    if not (misc / "status").exists():
        sh(["mount", "binfmt_misc", "-t", "binfmt_misc", str(misc)])
    if not (misc / "qemu-aarch64").exists():
        sh(["update-binfmts", "--enable", "qemu-aarch64"])
    handler = (misc / "qemu-aarch64").read_text()
    if not handler.startswith("enabled") or "F" not in handler.split("flags:")[1].split()[0]:
        raise SystemExit(f"qemu-aarch64 binfmt handler not usable in a chroot:\n{handler}")


def host_packages() -> None:
    missing = [tool for tool in ("qemu-aarch64-static", "debootstrap") if not shutil.which(tool)]
    if missing or not shutil.which("update-binfmts"):
        sh(["apt-get", "install", "-y", "qemu-user-static", "binfmt-support", "debootstrap"])


def bootstrap() -> None:
    done = BUILD / "debootstrap.done"
    if done.exists():
        return
    if ROOTFS.exists():
        shutil.rmtree(ROOTFS)
    ROOTFS.parent.mkdir(parents=True, exist_ok=True)
    sh(
        [
            "debootstrap",
            "--arch=arm64",
            "--variant=minbase",
            "--include=python3,python3-pip,python3-venv,ca-certificates",
            SUITE,
            ROOTFS,
            MIRROR,
        ]
    )
    done.write_text(datetime.datetime.now(datetime.UTC).isoformat() + "\n")


def serve_pins() -> list[str]:
    """numpy, pillow and ai-edge-litert exactly as requirements/serve.txt pins them."""
    pins = {}
    for line in (ROOT / "requirements" / "serve.txt").read_text().splitlines():
        name, _, version = line.split("#")[0].strip().partition("==")
        if name in SERVE_PINS:
            pins[name] = f"{name}=={version}"
    if set(pins) != set(SERVE_PINS):
        raise SystemExit(f"requirements/serve.txt lacks pins for {set(SERVE_PINS) - set(pins)}")
    return [pins[name] for name in SERVE_PINS]


def download_wheels() -> None:
    """The aarch64 cp311 wheels of the pins and their dependencies (versions from
    requirements/constraints.txt), fetched by the host's pip: pip under emulation is slow."""
    platforms = [f"manylinux_2_{minor}_aarch64" for minor in range(17, 37)]
    sh(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            *[
                flag
                for name in [*platforms, "manylinux2014_aarch64"]
                for flag in ("--platform", name)
            ],
            "-c",
            ROOT / "requirements" / "constraints.txt",
            "-d",
            WHEELS,
            *serve_pins(),
        ]
    )


def guest_venv() -> None:
    python = ROOTFS / GUEST_VENV.lstrip("/") / "bin" / "python"
    check = [
        "import importlib.metadata as m",
        f"wanted = {serve_pins()!r}",
        "have = [f'{n}=={m.version(n)}' for n in [w.split('==')[0] for w in wanted]]",
        "assert have == wanted, have",
        "import ai_edge_litert.interpreter, numpy, PIL",
    ]
    if python.exists():
        ok = subprocess.run(["chroot", ROOTFS, GUEST_VENV + "/bin/python", "-c", "\n".join(check)])
        if ok.returncode == 0:
            return
    download_wheels()
    target = ROOTFS / GUEST_WHEELS.lstrip("/")
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(WHEELS, target)
    sh(["chroot", ROOTFS, "python3", "-m", "venv", "--clear", GUEST_VENV])
    sh(
        [
            "chroot",
            ROOTFS,
            GUEST_VENV + "/bin/python",
            "-m",
            "pip",
            "install",
            "--no-index",
            "--find-links",
            GUEST_WHEELS,
            *serve_pins(),
        ]
    )
    sh(["chroot", ROOTFS, GUEST_VENV + "/bin/python", "-c", "\n".join(check)])


def setup() -> None:
    host_packages()
    binfmt_ready()
    bootstrap()
    guest_venv()


GRAVITON2_FEATURES = (
    "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop "
    "asimddp ssbs"
)
GRAVITON3_FEATURES = (
    "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma "
    "lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs paca pacg "
    "dcpodp svei8mm svebf16 i8mm bf16 dgh rng"
)
CPUINFO = {
    # (Features, CPU variant, CPU part) as a Graviton's /proc/cpuinfo shows them.
    "neoverse-n1": (GRAVITON2_FEATURES, "0x3", "0xd0c"),
    "max": (GRAVITON3_FEATURES, "0x1", "0xd40"),
    "max-sme-off-sve256": (GRAVITON3_FEATURES, "0x1", "0xd40"),
}
GUEST_CORES = 2
"""Cores the guest's /sys and /proc/cpuinfo show (the predictor runs 2 threads)."""


def fake_cpu_files(cpu: str) -> Path:
    """What cpuinfo (XNNPACK's CPU detection) reads, as on a Graviton with GUEST_CORES cores:
    qemu user mode passes the host's x86 /proc/cpuinfo and /sys through, where cpuinfo either
    fails (no /sys: XNNPACK is silently off) or crashes (the host's /sys). The ISA features
    themselves come from the hwcaps qemu emulates for the CPU model."""
    features, variant, part = CPUINFO[cpu]
    folder = BUILD / "fake" / cpu
    cpus = folder / "sys" / "devices" / "system" / "cpu"
    cpus.mkdir(parents=True, exist_ok=True)
    for name in ("possible", "present", "online"):
        (cpus / name).write_text(f"0-{GUEST_CORES - 1}\n")
    (folder / "cpuinfo").write_text(
        "".join(
            f"processor\t: {index}\nBogoMIPS\t: 243.75\nFeatures\t: {features}\n"
            f"CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: {variant}\n"
            f"CPU part\t: {part}\nCPU revision\t: 1\n\n"
            for index in range(GUEST_CORES)
        )
    )
    return folder


@contextlib.contextmanager
def mounted(out: Path, cpu: str) -> Iterator[None]:
    """/proc (its cpuinfo replaced), /dev, a fake /sys (see fake_cpu_files), the repository
    and the data read-only at their own paths, `out` writable."""
    fake = fake_cpu_files(cpu)
    plan: list[tuple[Path, Path, bool]] = [
        (Path("/proc"), ROOTFS / "proc", False),
        (fake / "cpuinfo", ROOTFS / "proc" / "cpuinfo", True),
        (Path("/dev"), ROOTFS / "dev", False),
        (fake / "sys", ROOTFS / "sys", True),
        (ROOT, ROOTFS / str(ROOT).lstrip("/"), True),
        (DATA, ROOTFS / str(DATA).lstrip("/"), True),
        (out, ROOTFS / str(out).lstrip("/"), False),
    ]
    done: list[Path] = []
    try:
        for source, target, read_only in plan:
            if source.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            if source == Path("/proc"):
                sh(["mount", "-t", "proc", "proc", target])
            else:
                sh(["mount", "--bind", source, target])
            done.append(target)
            if read_only:
                sh(["mount", "-o", "remount,bind,ro", target])
        yield
    finally:
        for target in reversed(done):
            subprocess.run(["umount", "-l", str(target)], check=False)


# ---------------------------------------------------------------- the run


def fixture_items() -> list[Item]:
    folder = ROOT / "tests" / "fixtures"
    return [
        {"set": "fixtures", "id": str(path.relative_to(folder)), "image": str(path)}
        for path in sorted(folder.rglob("*"))
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
    ]


def set_items() -> dict[str, list[Item]]:
    """The parity gate's sets (isic.sets) and the hard cases where runs/hard exists."""
    from isic.data import find_samples
    from isic.sets import standard_set_samples

    samples = standard_set_samples(DATA, ROOT / "models" / "split.json")
    hard = ROOT / "runs" / "hard"
    if hard.is_dir():
        samples["hard_cases"] = find_samples(hard, "training")
    return {
        name: [
            {
                "set": name,
                "id": s.image_id,
                "image": str(s.image_path.resolve()),
                "truth": str(s.mask_path.resolve()),
            }
            for s in chosen
        ]
        for name, chosen in samples.items()
    }


def subset(items: list[Item], per_set: int | None) -> list[Item]:
    """Every k-th item (in id order) so that at most `per_set` remain: deterministic, spread."""
    if per_set is None or len(items) <= per_set:
        return items
    step = len(items) / per_set
    return [items[int(i * step)] for i in range(per_set)]


def run_native(items: list[Item], out: Path) -> dict[str, Any]:
    return run_worker([str(ROOT / ".venv" / "bin" / "python")], items, out, {})


def qemu_version(qemu: Path | None) -> str:
    """The first line of `qemu --version` (None: the binfmt handler's qemu-aarch64-static)."""
    binary = str(qemu) if qemu else "qemu-aarch64-static"
    lines = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    return lines[0] if lines else "unknown"


def run_key(cpu: str, qemu: Path | None) -> str:
    """A run's name: the CPU model, and the qemu version when not the binfmt one."""
    if qemu is None:
        return cpu
    return f"{cpu}@qemu-{qemu_version(qemu).split()[2]}"


def run_guest(items: list[Item], out: Path, cpu: str, qemu: Path | None) -> dict[str, Any]:
    """The worker in the root: through the binfmt handler, or with `qemu` (another qemu-user
    build, e.g. a newer one) copied into the root and run explicitly."""
    python = GUEST_VENV + "/bin/python"
    if qemu is None:
        command, env = ["chroot", str(ROOTFS), python], {"QEMU_CPU": QEMU_CPUS[cpu]}
    else:
        inside = ROOTFS / "opt" / "qemu" / "qemu-aarch64"
        inside.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(qemu, inside)
        command = ["chroot", str(ROOTFS), "/opt/qemu/qemu-aarch64", "-cpu", QEMU_CPUS[cpu]]
        command, env = [*command, python], {}
    with mounted(out, cpu):
        return run_worker(command, items, out, env)


def run_worker(
    python: list[str], items: list[Item], out: Path, env: dict[str, str]
) -> dict[str, Any]:
    shutil.rmtree(out / "masks", ignore_errors=True)
    (out / "items.json").write_text(json.dumps(items))
    script = f"import os; os.chdir({str(ROOT)!r}); import sys; sys.path.insert(0, {str(ROOT)!r})"
    code = (
        f"{script}\nfrom benchmarks.arm64 import main\n"
        f"raise SystemExit(main(['worker', {str(out)!r}]))"
    )
    environment = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONDONTWRITEBYTECODE": "1", **env}
    (out / "result.json").unlink(missing_ok=True)
    began = time.perf_counter()
    done = subprocess.run(
        [*python, "-c", code], env=environment, stderr=subprocess.PIPE, text=True, check=False
    )
    print(done.stderr, end="", file=sys.stderr)
    if done.returncode != 0:
        raise SystemExit(f"the worker failed ({done.returncode}): {' '.join(python)}")
    result: dict[str, Any] = json.loads((out / "result.json").read_text())
    result["wall_seconds"] = time.perf_counter() - began
    result["xnnpack_delegate"] = XNNPACK_LINE in done.stderr
    result["stderr_other"] = sorted(
        {line for line in done.stderr.splitlines() if line and XNNPACK_LINE not in line}
    )[:10]
    if not result["xnnpack_delegate"]:
        raise SystemExit(f"XNNPACK was not used by {' '.join(python)}:\n{done.stderr}")
    return result


def read_mask(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def read_truth(path: Path) -> np.ndarray:
    """A ground-truth mask as isic.data.load_pair reads it: 0/255 uint8 (H, W)."""
    from segcore.processing import binary

    with Image.open(path) as image:
        mask = np.asarray(image.convert("L"), dtype=np.uint8)
    return np.where(binary(mask), 255, 0).astype(np.uint8)


def compare(
    items: list[Item], native: dict[str, Any], guest: dict[str, Any], native_out: Path, out: Path
) -> dict[str, Any]:
    """Per set: identical masks, probability differences, Dice against the truth on each side."""
    from segcore.metrics import score_pair

    by_set: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_set.setdefault(item["set"], []).append(index)
    report: dict[str, Any] = {}
    for name, indices in by_set.items():
        ours = [native["records"][i] for i in indices]
        theirs = [guest["records"][i] for i in indices]
        for a, b in zip(ours, theirs, strict=True):
            assert (a["set"], a["id"]) == (b["set"], b["id"])
        errors_same = all(
            a.get("error") == b.get("error") for a, b in zip(ours, theirs, strict=True)
        )
        ok = [j for j, (a, b) in enumerate(zip(ours, theirs, strict=True)) if "error" not in a | b]
        native_maps = np.load(native_out / f"{name}.npy")[ok]
        guest_maps = np.load(out / f"{name}.npy")[ok]
        diff = np.abs(native_maps.astype(np.float64) - guest_maps.astype(np.float64))
        per_image_max = diff.reshape(len(ok), -1).max(axis=1) if ok else np.zeros(0)
        differing = [j for j in ok if ours[j]["mask_sha256"] != theirs[j]["mask_sha256"]]
        mask_agreement = []
        for j in differing:
            a_mask = read_mask(native_out / "masks" / name / mask_file(ours[j]["id"]))
            b_mask = read_mask(out / "masks" / name / mask_file(theirs[j]["id"]))
            mask_agreement.append(
                {
                    "id": ours[j]["id"],
                    "pixels_differing": int(np.count_nonzero(a_mask != b_mask)),
                    "fraction_differing": float(np.mean(a_mask != b_mask)),
                    "dice_x86_64_vs_aarch64": score_pair(a_mask, b_mask)["dice"],
                }
            )
        entry: dict[str, Any] = {
            "n": len(indices),
            "n_decoded": len(ok),
            "errors_identical": errors_same,
            "n_errors": len(indices) - len(ok),
            "identical_masks": sum(ours[j]["mask_sha256"] == theirs[j]["mask_sha256"] for j in ok),
            "identical_mask_pngs": sum(
                ours[j]["mask_png_sha256"] == theirs[j]["mask_png_sha256"] for j in ok
            ),
            "identical_served_pngs": sum(
                ours[j]["served_png_sha256"] == theirs[j]["served_png_sha256"] for j in ok
            ),
            "identical_probability_maps": sum(
                ours[j]["probabilities_sha256"] == theirs[j]["probabilities_sha256"] for j in ok
            ),
            "max_abs_probability_diff": float(diff.max()) if ok else 0.0,
            "mean_abs_probability_diff": float(diff.mean()) if ok else 0.0,
            "images_with_probability_diff": int(np.count_nonzero(per_image_max > 0)),
            "differing_masks": mask_agreement,
        }
        truths = [items[indices[j]].get("truth") for j in ok]
        if ok and all(truths):
            rows: dict[str, list[dict[str, float]]] = {"x86_64": [], "aarch64": []}
            for j, truth_path in zip(ok, truths, strict=True):
                truth = read_truth(Path(str(truth_path)))
                for side, folder, records in (
                    ("x86_64", native_out, ours),
                    ("aarch64", out, theirs),
                ):
                    mask = read_mask(folder / "masks" / name / mask_file(records[j]["id"]))
                    rows[side].append(score_pair(truth, mask))
            dice = {side: np.array([r["dice"] for r in rows[side]]) for side in rows}
            tj = {side: np.array([r["threshold_jaccard"] for r in rows[side]]) for side in rows}
            paired = dice["aarch64"] - dice["x86_64"]
            entry["dice"] = {
                "x86_64_mean": float(dice["x86_64"].mean()),
                "aarch64_mean": float(dice["aarch64"].mean()),
                "paired_mean_diff": float(paired.mean()),
                "paired_max_abs_diff": float(np.abs(paired).max()),
                "images_with_dice_change": int(np.count_nonzero(paired)),
            }
            entry["threshold_jaccard"] = {
                "x86_64_mean": float(tj["x86_64"].mean()),
                "aarch64_mean": float(tj["aarch64"].mean()),
                "paired_mean_diff": float((tj["aarch64"] - tj["x86_64"]).mean()),
            }
            entry["within_gate_tolerance"] = bool(
                dice["x86_64"].mean() - dice["aarch64"].mean() <= DICE_TOLERANCE
                and tj["x86_64"].mean() - tj["aarch64"].mean() <= TJ_TOLERANCE
            )
        report[name] = entry
    return report


def host_machine() -> dict[str, str]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    qemu = subprocess.run(
        ["qemu-aarch64-static", "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    return {
        "host_cpu": model,
        "host_cores": str(os.cpu_count()),
        "host_kernel": platform.release(),
        "qemu": qemu[0] if qemu else "unknown",
        "guest_root": f"Debian {SUITE} arm64 (debootstrap --variant=minbase), qemu user mode",
    }


def run(
    per_set: int | None,
    fixtures_all: bool,
    cpus: Sequence[str],
    json_path: Path,
    add: bool,
    qemu: Path | None = None,
) -> None:
    binfmt_ready()
    sets = set_items()
    chosen = {name: subset(items, per_set) for name, items in sets.items()}
    items = fixture_items() if fixtures_all else []
    for name in chosen:
        items += chosen[name]
    native_out = OUT / "x86_64"
    native_out.mkdir(parents=True, exist_ok=True)
    print(f"[arm64] {len(items)} inputs natively", flush=True)
    native = run_native(items, native_out)
    counts = {name: len(sets[name]) for name in sets}
    used = {name: sum(1 for item in items if item["set"] == name) for name in ["fixtures", *sets]}
    chosen_subset = {
        "per_set": per_set,
        "rule": "every k-th id in id order (k = set size / per_set), fixtures all"
        if per_set
        else "whole sets",
        "full_set_sizes": counts,
        "used": used,
    }
    runs: dict[str, Any] = {}
    for cpu in cpus:
        key = run_key(cpu, qemu)
        out = OUT / f"aarch64-{key}"
        out.mkdir(parents=True, exist_ok=True)
        print(f"[arm64] {len(items)} inputs on aarch64 (qemu -cpu {cpu})", flush=True)
        guest = run_guest(items, out, cpu, qemu)
        decoded = [r["seconds"] for r in guest["records"] if "error" not in r]
        runs[key] = {
            "versions": guest["versions"],
            "qemu": qemu_version(qemu),
            "qemu_cpu": QEMU_CPUS[cpu],
            "xnnpack_delegate": guest["xnnpack_delegate"],
            "guest_cpuinfo": dict(
                zip(("features", "cpu_variant", "cpu_part"), CPUINFO[cpu], strict=True)
            ),
            "stderr_other": guest["stderr_other"],
            "model_sha256": guest["model_sha256"],
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "emulated_wall_seconds": round(guest["wall_seconds"], 1),
            "emulated_seconds_per_image_median": round(float(np.median(decoded)), 3),
            "subset": chosen_subset,
            "sets": compare(items, native, guest, native_out, out),
        }
    command = "sudo .venv/bin/python -m benchmarks.arm64 run" + (
        f" --per-set {per_set}" if per_set else ""
    )
    command += " --cpu " + " ".join(cpus) + (f" --qemu {qemu}" if qemu else "")
    if add:
        add_to(json_path, native, runs, command + " --add")
        return
    report = {
        "what": "served prediction (segcore, deployed int8 model, ai-edge-litert) on aarch64 "
        "under qemu user-mode emulation vs natively on x86_64: masks, probability maps on the "
        "model grid, and the parity gate's Dice check; timings under emulation mean nothing",
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": host_machine(),
        "model": "models/unet.tflite",
        "model_sha256": native["model_sha256"],
        "input_size": native["input_size"],
        "flips": native["flips"],
        "subset": chosen_subset,
        "x86_64": {
            "versions": native["versions"],
            "xnnpack_delegate": native["xnnpack_delegate"],
            "wall_seconds": round(native["wall_seconds"], 1),
        },
        "aarch64": runs,
        "gate_tolerances": {"dice": DICE_TOLERANCE, "threshold_jaccard": TJ_TOLERANCE},
    }
    json_path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"[arm64] wrote {json_path}")


def add_to(json_path: Path, native: dict[str, Any], runs: dict[str, Any], command: str) -> None:
    """Add `runs` to the report in `json_path` (same model and x86_64 versions), keeping its
    other runs; a run on another subset than the report's says so in its own "subset"."""
    report: dict[str, Any] = json.loads(json_path.read_text())
    pins = ("python", *SERVE_PINS)
    same = report["model_sha256"] == native["model_sha256"] and all(
        report["x86_64"]["versions"][k] == native["versions"][k] for k in pins
    )
    if not same:
        raise SystemExit(f"{json_path} is about another model or x86_64 stack")
    report["aarch64"] = {
        **{k: v for k, v in report["aarch64"].items() if k not in runs},
        **runs,
    }
    report["command"] = f"{report['command']}; then {command}"
    report["date"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    json_path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"[arm64] added {', '.join(runs)} to {json_path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.arm64", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("setup", help="build or reuse the aarch64 root and its venv")
    run_parser = commands.add_parser("run", help="compare aarch64 with x86_64; write the JSON")
    run_parser.add_argument("--per-set", type=int, help="at most N images of each set")
    run_parser.add_argument("--cpu", nargs="+", choices=CPUS, default=["neoverse-n1"])
    run_parser.add_argument("--json", type=Path, default=JSON_PATH)
    run_parser.add_argument(
        "--add", action="store_true", help="keep the JSON's other CPU models' runs (same inputs)"
    )
    run_parser.add_argument(
        "--qemu", type=Path, help="run this qemu-aarch64 explicitly instead of the binfmt one"
    )
    worker_parser = commands.add_parser("worker", help="(internal) segment out/items.json")
    worker_parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "setup":
        setup()
    elif args.command == "run":
        run(args.per_set, True, args.cpu, args.json, args.add, args.qemu)
    else:
        items = json.loads((args.out / "items.json").read_text())
        result = worker(items, args.out)
        (args.out / "result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

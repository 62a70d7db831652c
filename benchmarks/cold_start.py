"""Cold start and size of the serving image, in a Docker engine, started as Lambda starts it
(read-only root, /tmp a tmpfs, an unprivileged user, its Runtime Interface Emulator).

    python -m benchmarks.cold_start [--image lesion-api:latest] [--runs 7] [--json PATH]
        [--baseline IMAGE --baseline-label TEXT]

For each variant, --runs fresh containers each answer one API Gateway event (a 1024x768 JPEG)
and then 10 more; the emulator reports INIT (imports + model load) and each invocation's
duration. Variants: the image as built (bytecode compiled at build time) and the same image
with no usable bytecode (PYTHONPYCACHEPREFIX points at an empty folder, so every start compiles).
What each INIT measure buys, in fresh `python3 -c "import lesion_api.handler"` processes in the same
container set-up: as shipped, with the garbage collector left on during INIT (app/handler.py's
gc.disable() made a no-op), and with numpy's BLAS thread pool (OPENBLAS_NUM_THREADS = cores).
Also: where INIT goes (`python -X importtime`, self time summed by top-level package), which
modules the first request still imports (lazily), and the serving layer's size by package.
Goals: INIT <= 0.3 s, serving layer <= 120 MB, warm p50 <= 60 ms.

Absolute times differ between machines (and between runs on a shared one): with --baseline,
another image (e.g. one built from an older commit:
`git worktree add /tmp/before REV && docker build -t lesion-api:before -f lambda/Dockerfile
/tmp/before`) starts in turn with this one, and the report gives this image's INIT as a ratio of
the baseline's, measured in the same run. With --baseline-goal-init-ms (the baseline's INIT on
the machine where the goal was set), the INIT goal is also read as that ratio: goal / that INIT.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import statistics
import subprocess
from pathlib import Path
from typing import Any

from PIL import Image

from benchmarks.process import ROOT
from benchmarks.provenance import stamp
from devtools.emulator import invoke
from devtools.events import event, multipart
from devtools.offline_bases import LAMBDA_BASE
from devtools.stack import free_port
from infra.deploy import STANDIN_LABEL

GOALS = {"init_ms": 300.0, "serving_layer_mb": 120.0, "warm_p50_ms": 60.0}
LAMBDA_LIKE = ["--read-only", "--tmpfs", "/tmp", "--user", "65534:65534"]
VARIANTS = {
    "bytecode compiled at build (as shipped)": {},
    "no bytecode (compiled at every start)": {"PYTHONPYCACHEPREFIX": "/tmp/no-pycache"},
}
WARM_RUNS = 10
TIMED_IMPORT = (
    "import time, gc; t = time.perf_counter(); {patch}; import lesion_api.handler; "
    "print((time.perf_counter() - t) * 1000)"
)
IMPORT_VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "as shipped": ("pass", {}),
    "gc on during INIT": ("gc.disable = lambda: None", {}),
    "BLAS thread pool at import": ("pass", {"OPENBLAS_NUM_THREADS": str(os.cpu_count())}),
}


def env_flags(env: dict[str, str]) -> list[str]:
    """`docker run` arguments that set these environment variables."""
    return [arg for name, value in env.items() for arg in ("-e", f"{name}={value}")]


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def upload_event() -> dict[str, Any]:
    image = Image.open(ROOT / "tests/fixtures/samples/ISIC_0000012.jpg").resize((1024, 768))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    content_type, body = multipart(buffer.getvalue(), "x.jpg")
    return event("v2", "POST", "/v1/segment", body, {"content-type": content_type})


def one_cold_start(image: str, env: dict[str, str], payload: dict[str, Any]) -> dict[str, float]:
    port = free_port()
    container = docker(
        "run", "-d", *LAMBDA_LIKE, *env_flags(env), "-p", f"127.0.0.1:{port}:8080", image
    ).strip()  # fmt: skip
    try:
        for _ in range(1 + WARM_RUNS):
            assert invoke(port, payload)["statusCode"] == 200
        logs = subprocess.run(["docker", "logs", container], capture_output=True, text=True)
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)
    text = logs.stdout + logs.stderr
    init = float(text.split("INIT REPORT(durationMs: ")[1].split(")")[0])
    durations = [float(part.split(" ms")[0]) for part in text.split("\tDuration: ")[1:]]
    return {
        "init_ms": init,
        "first_ms": durations[0],
        "warm_p50_ms": statistics.median(durations[1:]),
    }


def import_ms(image: str, patch: str, env: dict[str, str]) -> float:
    """One fresh process's `import lesion_api.handler` (imports + model load), in ms."""
    code = TIMED_IMPORT.format(patch=patch)
    out = docker(
        "run", "--rm", *LAMBDA_LIKE, *env_flags(env), "--entrypoint", "python3", image, "-c", code
    )
    return float(out.strip().splitlines()[-1])


def import_breakdown(image: str) -> dict[str, float]:
    """INIT's imports in ms of self time, by top-level package (python -X importtime)."""
    done = subprocess.run(
        ["docker", "run", "--rm", *LAMBDA_LIKE, "--entrypoint", "python3", image,
         "-X", "importtime", "-c", "import lesion_api.handler"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    totals: collections.defaultdict[str, float] = collections.defaultdict(float)
    for line in done.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[0].strip().isdigit():
            totals[fields[2].strip().split(".")[0]] += int(fields[0]) / 1000
    slowest = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)[:15]
    return {name: round(ms, 1) for name, ms in slowest}


LAZY_PROBE = """
import json, sys, urllib.request
import lesion_api.handler
before = set(sys.modules)
event = json.load(sys.stdin)
assert lesion_api.handler.handler(event, None)["statusCode"] == 200
print(json.dumps(sorted({m.split(".")[0] for m in set(sys.modules) - before})))
"""


def lazy_imports(image: str, payload: dict[str, Any]) -> list[str]:
    """Top-level packages the first request imports (not loaded at INIT)."""
    done = subprocess.run(
        ["docker", "run", "--rm", "-i", *LAMBDA_LIKE, "--entrypoint", "python3", image,
         "-c", LAZY_PROBE],
        input=json.dumps(payload), capture_output=True, text=True, check=True,
    )  # fmt: skip
    imported: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return imported


def layer_sizes(image: str) -> dict[str, object]:
    """The image's own layers above the base, and /var/task by top-level entry, in MB."""
    ours = int(docker("image", "inspect", "-f", "{{.Size}}", image))
    base = int(docker("image", "inspect", "-f", "{{.Size}}", LAMBDA_BASE))
    du = docker("run", "--rm", "--entrypoint", "sh", image, "-c", "du -sk /var/task/* /opt/model")
    entries = {}
    for line in du.splitlines():
        kb, path = line.split("\t")
        entries[Path(path).name] = round(int(kb) / 1024, 1)
    top = dict(sorted(entries.items(), key=lambda kv: -kv[1])[:15])
    return {"serving_layer_mb": round((ours - base) / 1e6, 1), "by_entry_mb": top}


def baseline(image: str, other: str, runs: int, payload: dict[str, Any]) -> dict[str, Any]:
    """INIT of this image and of another, started in turn (as shipped), and their ratio."""
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(one_cold_start(image, {}, payload)["init_ms"])
        theirs.append(one_cold_start(other, {}, payload)["init_ms"])
    init_ms, baseline_ms = statistics.median(ours), statistics.median(theirs)
    return {
        "image": other,
        "init_ms": round(init_ms, 1),
        "baseline_init_ms": round(baseline_ms, 1),
        "init_vs_baseline": round(init_ms / baseline_ms, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cold_start", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--image", default="lesion-api:latest")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "cold_start.json")
    parser.add_argument("--baseline", help="another image, started in turn with this one")
    parser.add_argument("--baseline-label", default="", help="what the baseline is (for the JSON)")
    parser.add_argument(
        "--baseline-goal-init-ms",
        type=float,
        help="the baseline's INIT on the machine where the goal was set: the INIT goal is then "
        "also read as a ratio to the baseline started in the same run",
    )
    args = parser.parse_args(argv)
    payload = upload_event()
    standin = docker("image", "inspect", "-f", "{{json .Config.Labels}}", LAMBDA_BASE)
    is_standin = STANDIN_LABEL in standin
    variants: dict[str, dict[str, float]] = {}
    report: dict[str, object] = {
        **stamp(),
        "image": args.image,
        "base": LAMBDA_BASE + (" (offline stand-in: Debian 12, Python 3.12)" if is_standin else ""),
        "runs": args.runs,
        "goals": GOALS,
        "variants": variants,
    }
    print("| variant | INIT ms | first invoke ms | warm p50 ms |\n| --- | --- | --- | --- |")
    for name, env in VARIANTS.items():
        samples = [one_cold_start(args.image, env, payload) for _ in range(args.runs)]
        medians = {key: round(statistics.median(s[key] for s in samples), 1) for key in samples[0]}
        variants[name] = medians
        print(
            f"| {name} | {medians['init_ms']} | {medians['first_ms']} | {medians['warm_p50_ms']} |"
        )
    if args.baseline:
        against = baseline(args.image, args.baseline, args.runs, payload)
        against["label"] = args.baseline_label
        if args.baseline_goal_init_ms:
            against["goal_vs_baseline"] = round(GOALS["init_ms"] / args.baseline_goal_init_ms, 3)
        report["baseline"] = against
        print("against the baseline, in turn:", report["baseline"])
    imports: dict[str, list[float]] = {name: [] for name in IMPORT_VARIANTS}
    for _ in range(args.runs):  # interleaved, so drifts in machine load hit every variant alike
        for name, (patch, env) in IMPORT_VARIANTS.items():
            imports[name].append(import_ms(args.image, patch, env))
    report["import_and_load_ms"] = {k: round(statistics.median(v), 1) for k, v in imports.items()}
    print(
        "import lesion_api.handler (imports + model load), median ms:", report["import_and_load_ms"]
    )
    report["init_imports_self_ms"] = import_breakdown(args.image)
    report["first_request_imports"] = lazy_imports(args.image, payload)
    report.update(layer_sizes(args.image))
    print("INIT imports, self time by package (ms):", report["init_imports_self_ms"])
    print("imported lazily by the first request:", report["first_request_imports"])
    print(f"serving layer: {report['serving_layer_mb']} MB; by entry: {report['by_entry_mb']}")
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

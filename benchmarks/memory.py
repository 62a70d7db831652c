"""Peak memory of the worst uploads: each alone in a fresh process, then all of them, round after
round, in one warm process (its RSS must stay flat).

    python -m benchmarks.memory [--rounds 5] [--json benchmarks/memory.json]

The worst inputs are the crafted 40 MP PNGs (greyscale, 16-bit, RGB), the JPEG whose header
says 6000x6666, and a 12 MP phone-sized JPEG. The app is the real one: default settings, the
committed model, in-process (TestClient). Goal: every fresh-process peak below 400 MB.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.images import noisy_jpeg
from benchmarks.process import ROOT, Figures, add_worker_arguments, peak_rss_mb, run_worker

GOAL_PEAK_MB = 400.0
CRAFTED = ROOT / "tests" / "fixtures" / "crafted"
WORST = ["grey_6400x6250.png", "grey16_6400x6250.png", "rgb_6400x6250.png", "header_6000x6666.jpg"]


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def worker(files: list[str], rounds: int) -> Figures:
    """Post each file `rounds` times to the app in this process; RSS after every request."""
    from fastapi.testclient import TestClient

    from lesion_api.main import create_app

    app = create_app()  # as served: default settings, the committed model

    client = TestClient(app, raise_server_exceptions=False)
    client.get("/health")
    start = current_rss_mb()
    requests = []
    for round_ in range(rounds):
        for name in files:
            data = Path(name).read_bytes()
            response = client.post("/v1/segment", files={"file": (Path(name).name, data)})
            requests.append(
                {
                    "round": round_,
                    "file": Path(name).name,
                    "status": response.status_code,
                    "rss_mb": round(current_rss_mb(), 1),
                    "peak_mb": round(peak_rss_mb(), 1),
                }
            )
    return {"ready_rss_mb": round(start, 1), "requests": requests}


def measure(rounds: int, files: list[Path]) -> Figures:
    fresh = {}
    for path in files:
        result = run_worker("benchmarks.memory", [str(path), "--rounds", "1"])
        fresh[path.name] = {**result["requests"][0], "ready_rss_mb": result["ready_rss_mb"]}
    warm = run_worker("benchmarks.memory", [*map(str, files), "--rounds", str(rounds)])
    ends = [r["rss_mb"] for r in warm["requests"] if r["file"] == files[-1].name]
    return {
        "fresh": fresh,
        "warm": {
            "ready_rss_mb": warm["ready_rss_mb"],
            "rss_after_each_round_mb": ends,
            "peak_mb": max(r["peak_mb"] for r in warm["requests"]),
        },
        "goal_peak_mb": GOAL_PEAK_MB,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("files", nargs="*", help="(worker) files to post")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    add_worker_arguments(parser)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.files, args.rounds)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        phone = Path(tmp) / "phone_12mp.jpg"
        phone.write_bytes(noisy_jpeg(4000, 3000))
        files = [*(CRAFTED / name for name in WORST), phone]
        result = measure(args.rounds, files)
    print(f"{'upload':<24} {'status':>6} {'ready MB':>9} {'peak MB':>8}  (fresh process each)")
    for name, row in result["fresh"].items():
        print(f"{name:<24} {row['status']:>6} {row['ready_rss_mb']:>9.1f} {row['peak_mb']:>8.1f}")
    warm = result["warm"]
    print(
        f"warm process, {args.rounds} rounds of all {len(files)}: ready {warm['ready_rss_mb']} MB,"
        f" RSS after each round {warm['rss_after_each_round_mb']} MB, peak {warm['peak_mb']} MB"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

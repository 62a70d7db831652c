"""Load on a real uvicorn server on 127.0.0.1: N clients for T seconds, and a soak.

    python -m benchmarks.load                       # 1, 2, 8 clients x 15 s, default settings
    python -m benchmarks.load --designs --json benchmarks/concurrency.json
    python -m benchmarks.load --soak 2000
    python -m benchmarks.load --url http://127.0.0.1:8000 --clients 8   # a server of yours

Every answer (Accept: image/png) is compared byte for byte with that image's answer fetched
alone first: a different mask counts as wrong. Prints requests/s, p50/p95/p99, errors, wrong
masks and the server's RSS. --designs compares a pool of interpreters with one thread each
against one guarded interpreter with all threads, at 1, 2 and 8 clients. --soak posts a mix of
real images and broken files and prints the server's RSS every 250 requests.
Goals on 2 cores: 0 errors and 0 wrong masks at 8 clients, 8 clients >= 1.6x one client's
throughput, RSS flat over the soak.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from devtools.stack import ROOT, api_server
from segcore.paths import DEPLOYED_MODEL

FIXTURES = ROOT / "tests" / "fixtures"
MODEL = DEPLOYED_MODEL
# (name, interpreters, threads per interpreter) on this machine's cores
DESIGNS: list[tuple[str, str | None, str | None]] = [
    ("pool of interpreters", "2", "1"),
    ("one guarded interpreter", "1", "2"),
]


def real_images() -> dict[str, bytes]:
    """The committed real ISIC images: crops, full-field copies, validation, a 1022x767 sample."""
    paths = sorted(FIXTURES.glob("isic2018*/*_Input/*.jpg"))
    paths.append(FIXTURES / "samples" / "ISIC_0000012.jpg")
    return {f"{p.parent.parent.name}/{p.name}": p.read_bytes() for p in paths}


def bad_files() -> dict[str, bytes]:
    """Broken uploads: the crafted 4xx fixtures, text, a truncated JPEG."""
    crafted = FIXTURES / "crafted"
    files = {p.name: p.read_bytes() for p in sorted(crafted.glob("truncated_*.png"))}
    files.update({p.name: p.read_bytes() for p in sorted(crafted.glob("*bomb*.png"))})
    sample = (FIXTURES / "samples" / "ISIC_0000012.jpg").read_bytes()
    files["text"] = b"this is not an image"
    files["half.jpg"] = sample[: len(sample) // 2]
    return files


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def server(interpreters: str | None, threads: str | None) -> Iterator[tuple[str, int]]:
    """uvicorn with the committed model and these pool settings; yields (url, pid)."""
    settings = {"INTERPRETERS": interpreters, "NUM_THREADS": threads}
    with api_server(MODEL, **{k: v for k, v in settings.items() if v}) as served:
        yield served


def post(client: httpx.Client, url: str, data: bytes) -> httpx.Response:
    return client.post(
        f"{url}/v1/segment",
        files={"file": ("upload", data, "application/octet-stream")},
        headers={"Accept": "image/png"},
    )


def expected_masks(url: str, images: dict[str, bytes]) -> dict[str, bytes]:
    with httpx.Client(timeout=60) as client:
        return {name: post(client, url, data).content for name, data in images.items()}


def load(url: str, pid: int | None, clients: int, seconds: float) -> dict[str, float]:
    """`clients` threads post real images round-robin for `seconds`; every answer is checked."""
    images = real_images()
    expected = expected_masks(url, images)
    names = sorted(images)
    latencies: list[float] = []
    counts = {"errors": 0, "wrong_masks": 0}
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    peak_rss = [rss_mb(pid) if pid else float("nan")]
    stop = 0.0  # set just before the clients are released

    def one_client(index: int) -> None:
        with httpx.Client(timeout=60) as client:
            start.wait()
            i = index
            while time.monotonic() < stop:
                name = names[i % len(names)]
                i += 1
                t0 = time.perf_counter()
                response = post(client, url, images[name])
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        counts["errors"] += 1
                    elif response.content != expected[name]:
                        counts["wrong_masks"] += 1

    threads = [threading.Thread(target=one_client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop = time.monotonic() + seconds
    start.wait()
    began = time.monotonic()
    while any(t.is_alive() for t in threads):
        if pid:
            peak_rss.append(rss_mb(pid))
        time.sleep(0.25)
    elapsed = time.monotonic() - began
    times = np.asarray(latencies)
    return {
        "clients": clients,
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 2),
        "p50_ms": round(float(np.percentile(times, 50)), 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
        "p99_ms": round(float(np.percentile(times, 99)), 1),
        **counts,
        "server_peak_rss_mb": round(max(peak_rss), 1),
    }


def soak(url: str, pid: int | None, total: int, clients: int = 4) -> dict[str, Any]:
    """`total` requests, two good for each bad, from `clients` threads; RSS every 250."""
    images, bad = real_images(), bad_files()
    expected = expected_masks(url, images)
    plan: list[tuple[bytes, bytes | None]] = []
    good_names, bad_names = sorted(images), sorted(bad)
    for i in range(total):
        if i % 3 == 2:
            plan.append((bad[bad_names[i % len(bad_names)]], None))
        else:
            name = good_names[i % len(good_names)]
            plan.append((images[name], expected[name]))
    done = 0
    counts = {"5xx": 0, "4xx": 0, "wrong_masks": 0}
    rss_every_250: list[float] = []
    lock = threading.Lock()
    next_index = iter(range(total))

    def one_client() -> None:
        nonlocal done
        with httpx.Client(timeout=60) as client:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                data, want = plan[index]
                response = post(client, url, data)
                with lock:
                    done += 1
                    if response.status_code >= 500:
                        counts["5xx"] += 1
                    elif response.status_code >= 400:
                        counts["4xx"] += 1
                    elif want is not None and response.content != want:
                        counts["wrong_masks"] += 1
                    if done % 250 == 0 and pid:
                        rss_every_250.append(round(rss_mb(pid), 1))
                        print(f"  {done:>5} requests: server RSS {rss_every_250[-1]} MB")

    threads = [threading.Thread(target=one_client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"requests": total, "clients": clients, **counts, "rss_every_250_mb": rss_every_250}


def print_rows(title: str, rows: list[dict[str, float]]) -> None:
    print(title)
    print(
        f"{'clients':>7} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>6} "
        f"{'wrong':>5} {'RSS MB':>7}"
    )
    for r in rows:
        print(
            f"{r['clients']:>7} {r['requests_per_s']:>7.1f} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f}"
            f" {r['p99_ms']:>7.1f} {r['errors']:>6} {r['wrong_masks']:>5}"
            f" {r['server_peak_rss_mb']:>7.1f}"
        )
    base = rows[0]["requests_per_s"]
    print(
        "  throughput vs 1 client: "
        + ", ".join(f"{r['clients']}: {r['requests_per_s'] / base:.2f}x" for r in rows)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--url", help="an API already running (default: start uvicorn here)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 8])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--designs", action="store_true", help="compare the pool designs")
    parser.add_argument("--soak", type=int, default=0, help="requests in a soak (0: none)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    result: dict[str, Any] = {"cores": os.cpu_count(), "images": len(real_images())}
    if args.url:
        rows = [load(args.url, None, n, args.seconds) for n in args.clients]
        print_rows(args.url, rows)
        result["rows"] = rows
    designs = DESIGNS if args.designs else [("default settings", None, None)]
    if not args.url:
        result["designs"] = {}
        for label, interpreters, threads in designs:
            with server(interpreters, threads) as (url, pid):
                rows = [load(url, pid, n, args.seconds) for n in args.clients]
                if args.soak:
                    print(f"soak: {args.soak} mixed requests")
                    result["soak"] = soak(url, pid, args.soak)
            title = f"{label} (INTERPRETERS={interpreters}, NUM_THREADS={threads})"
            print_rows(title, rows)
            result["designs"][label] = {
                "interpreters": interpreters,
                "num_threads": threads,
                "rows": rows,
            }
        if args.soak:
            print(json.dumps(result["soak"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

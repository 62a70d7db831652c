"""Latency through the API by image size: one client, JSON answers, a real lesion image.

    python -m benchmarks.latency [--runs 30] [--compare URL] [--json benchmarks/latency.json]

Starts uvicorn with the committed model (or measures --url) and posts JPEGs of the real
1022x767 sample resized to 256x192, 1024x768, 2048x1536 and 4000x3000 (12 MP, with sensor-like
noise so it weighs what a phone photo weighs). --compare URL measures a second server (e.g. an
older checkout) in the same run, size by size, and prints the ratio. Goal: p50 <= 120 ms at 12 MP.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx

from benchmarks.images import noisy_jpeg
from benchmarks.load import server
from benchmarks.process import Figures
from benchmarks.provenance import stamp
from segcore.timing import latency_ms

SIZES = [(256, 192), (1024, 768), (2048, 1536), (4000, 3000)]
GOAL_12MP_P50_MS = 120.0


def p50_ms(client: httpx.Client, url: str, data: bytes, runs: int) -> float:
    def post() -> None:
        response = client.post(f"{url}/v1/segment", files={"file": ("x.jpg", data, "image/jpeg")})
        response.raise_for_status()

    return latency_ms(post, runs, warmup=2)["p50_ms"]


def measure(urls: dict[str, str], runs: int) -> list[Figures]:
    rows = []
    with httpx.Client(timeout=60) as client:
        for width, height in SIZES:
            data = noisy_jpeg(width, height)
            row: Figures = {"size": f"{width}x{height}", "bytes": len(data)}
            for label, url in urls.items():
                row[f"{label}_p50_ms"] = round(p50_ms(client, url, data, runs), 1)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--url", help="measure this API instead of starting one")
    parser.add_argument("--compare", help="a second API to measure in the same run")
    parser.add_argument("--compared-build", help="what --compare serves, for the JSON's record")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    def run(url: str) -> list[Figures]:
        urls = {"this": url, **({"compared": args.compare} if args.compare else {})}
        return measure(urls, args.runs)

    if args.url:
        rows = run(args.url)
    else:
        with server(None, None) as (url, _):
            rows = run(url)
    print(
        f"{'size':>10} {'bytes':>9} {'p50 ms':>8}"
        + (f" {'compared':>9} {'ratio':>6}" if args.compare else "")
    )
    for r in rows:
        line = f"{r['size']:>10} {r['bytes']:>9,} {r['this_p50_ms']:>8.1f}"
        if args.compare:
            line += (
                f" {r['compared_p50_ms']:>9.1f} {r['compared_p50_ms'] / r['this_p50_ms']:>5.1f}x"
            )
        print(line)
    if args.json:
        result = {
            **stamp(),
            "compared_build": args.compared_build if args.compare else None,
            "runs": args.runs,
            "goal_12mp_p50_ms": GOAL_12MP_P50_MS,
            "rows": rows,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Throughput of one warm batch function, and what 10,000 images would take on AWS.

    python -m benchmarks.batch [--data ../shared/data] [--count 200] [--batch-size 10]

Real ISIC 2018 images are put in an in-process S3 (moto) under incoming/, then one warm
`lesion_api.batch` (the committed model, this machine's cores) answers them as SQS batches of
--batch-size S3 notifications, reading each object and writing its mask and JSON back. Two sets:
--count training images (512x512 crops) and every near-native full-field image (about 1024x768).
Printed and written to benchmarks/batch.json: images per second, and for 10,000 images the wall
time at a few concurrencies and the cost at AWS's published prices (dated below).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import TypedDict

import boto3
from moto import mock_aws
from PIL import Image

from benchmarks.process import ROOT
from devtools.events import s3_put, sqs_batch
from isic.data import SUBSETS
from lesion_api.batch import create_batch
from lesion_api.settings import Settings

BUCKET = "lesion-batch"
INPUT = SUBSETS["training"][0]


class Prices(TypedDict):
    date: str
    lambda_gb_second: float
    lambda_request: float
    sqs_request: float
    s3_put: float
    s3_get: float


class Throughput(TypedDict):
    """One set's figures (`measure`)."""

    images: int
    median_size: str
    median_bytes: float
    wall_s: float
    images_per_s: float
    segmentation_ms_median: float
    per_image_ms: float


# AWS's published us-east-1 list prices, free tiers ignored: Lambda x86 per GB-second (first 6
# billion GB-s a month) and per request (aws.amazon.com/lambda/pricing, as quoted in March 2026,
# e.g. wring.co's Lambda pricing guide of 2026-03-08), SQS standard per request and S3 Standard
# per PUT and per GET (AWS's long-standing list prices; not re-read here: no internet).
PRICES: Prices = {
    "date": "as quoted 2026-03",
    "lambda_gb_second": 0.0000166667,
    "lambda_request": 0.20 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "s3_put": 0.005 / 1000,
    "s3_get": 0.0004 / 1000,
}
IMAGES = 10_000
# The measured machine has 2 cores; a Lambda function gets one vCPU per 1,769 MB.
MEASURED_CORES = 2
MB_PER_VCPU = 1769


def images(folder: Path, count: int | None, near_native: bool) -> list[Path]:
    paths = sorted(folder.glob("ISIC_*.jpg"))
    if near_native:
        paths = [p for p in paths if Image.open(p).width >= 1000]
    return paths[:count] if count else paths


def measure(paths: list[Path], batch_size: int) -> Throughput:
    """Put `paths` in moto S3 and time one warm batch function over them."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        events = []
        for path in paths:
            key = f"incoming/bench/{path.name}"
            data = path.read_bytes()
            etag = s3.put_object(Bucket=BUCKET, Key=key, Body=data)["ETag"]
            events.append(s3_put(BUCKET, key, len(data), etag.strip('"')))
        batch = create_batch(Settings(), s3=s3)
        batch.handle(events[0])  # warm: first inference, lazy imports
        start = time.perf_counter()
        for first in range(0, len(events), batch_size):
            answer = batch.handle(sqs_batch(*events[first : first + batch_size]))
            assert answer == {"batchItemFailures": []}, answer
        wall = time.perf_counter() - start
        totals = [
            json.loads(
                s3.get_object(Bucket=BUCKET, Key=f"results/bench/{p.name}.json")["Body"].read()
            )["timings_ms"]["total_ms"]
            for p in paths
        ]
    sizes = [Image.open(p).size for p in paths]
    return {
        "images": len(paths),
        "median_size": f"{statistics.median(w for w, _ in sizes):.0f}x"
        f"{statistics.median(h for _, h in sizes):.0f}",
        "median_bytes": statistics.median(p.stat().st_size for p in paths),
        "wall_s": round(wall, 2),
        "images_per_s": round(len(paths) / wall, 1),
        "segmentation_ms_median": round(statistics.median(totals), 1),
        "per_image_ms": round(1000 * wall / len(paths), 1),
    }


def projection(per_image_s: float, memory_mb: int, batch_size: int) -> dict[str, object]:
    """10,000 images on Lambda at `memory_mb`, from a time measured on MEASURED_CORES cores."""
    vcpus = memory_mb / MB_PER_VCPU
    on_lambda_s = per_image_s * max(1.0, MEASURED_CORES / vcpus)
    gb_seconds = IMAGES * on_lambda_s * memory_mb / 1024
    invocations = -(-IMAGES // batch_size)
    cost = {
        "lambda_compute": gb_seconds * PRICES["lambda_gb_second"],
        "lambda_requests": invocations * PRICES["lambda_request"],
        # S3 -> SQS send, Lambda's receive and delete (batched receives and deletes counted as
        # one request per message: an upper bound).
        "sqs": 3 * IMAGES * PRICES["sqs_request"],
        # upload, mask and JSON per image; the function's read and the client's two downloads.
        "s3": 3 * IMAGES * PRICES["s3_put"] + 3 * IMAGES * PRICES["s3_get"],
    }
    return {
        "memory_mb": memory_mb,
        "assumed_s_per_image": round(on_lambda_s, 3),
        "wall_minutes_by_concurrency": {
            c: round(IMAGES * on_lambda_s / c / 60, 1) for c in (5, 20, 100)
        },
        "cost_usd": {k: round(v, 3) for k, v in cost.items()},
        "total_usd": round(sum(cost.values()), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.batch", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "batch.json")
    args = parser.parse_args(argv)
    sets = {
        "training crops": images(args.data / "isic2018" / INPUT, args.count, False),
        "near-native full field": images(args.data / "isic2018_fullview" / INPUT, None, True),
    }
    report: dict[str, object] = {
        "cores": os.cpu_count(),
        "batch_size": args.batch_size,
        "prices": PRICES,
    }
    print("| set | images | median size | images/s | per image ms | segmentation ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    measured: dict[str, Throughput] = {}
    for name, paths in sets.items():
        figures = measure(paths, args.batch_size)
        report[name] = measured[name] = figures
        print(
            f"| {name} | {figures['images']} | {figures['median_size']} | "
            f"{figures['images_per_s']} | {figures['per_image_ms']} | "
            f"{figures['segmentation_ms_median']} |"
        )
    slowest = max(m["per_image_ms"] for m in measured.values()) / 1000
    projections = [projection(slowest, memory, args.batch_size) for memory in (1536, 3538)]
    report["projection_10000"] = projections
    for p in projections:
        print(
            f"10,000 images at {p['memory_mb']} MB: {p['assumed_s_per_image']} s each, "
            f"wall {p['wall_minutes_by_concurrency']} min by concurrency, ${p['total_usd']}"
        )
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What 1,000 images cost through the API and through the batch function, x86_64 and arm64.

    python -m benchmarks.cost [--json benchmarks/cost.json] [--table]

Computed from measured durations only, all committed: the handler's warm duration for a
1024x768 JPEG (handler.json), the batch function's time per image (batch.json, its slowest set),
and the cold start as Lambda's emulator reports it (cold_start.json); memory, batch size and
batch concurrency are template.yaml's defaults. Times AWS's published us-east-1 on-demand prices
(PRICES, dated and sourced), broken down into Lambda compute, Lambda requests, API Gateway, S3
and SQS. Written to --json and printed as a Markdown table; --table only prints the JSON there.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any, TypedDict

from benchmarks.process import ROOT

IMAGES = 1000
ARCHITECTURES = ("x86_64", "arm64")
PARTS = ("lambda_compute", "lambda_requests", "api_gateway", "s3", "sqs")


class Price(TypedDict):
    """A published price: `usd` per `per` `unit`, from `source`, read on `read`; `seen` is
    where the figure itself was read (the AWS page renders most of its figures client-side)."""

    usd: float
    per: int
    unit: str
    source: str
    read: str
    seen: str


READ = "2026-12-02"
LAMBDA = "https://aws.amazon.com/lambda/pricing/"
# us-east-1 on-demand, first tier, free tiers ignored. AWS's own pages were read through the
# stored copies the search tool holds; where a figure was not legible there, `seen` names the
# page it was read on instead.
PRICES: dict[str, Price] = {
    "lambda_gb_second_x86_64": {
        "usd": 0.0000166667,
        "per": 1,
        "unit": "GB-second (first 6 billion a month)",
        "source": LAMBDA,
        "read": READ,
        "seen": "https://cloudchipr.com/blog/aws-lambda-pricing (US East; $0.00001667 rounded "
        "in AWS's examples on the Lambda page and in docs.aws.amazon.com/whitepapers/latest/"
        "how-aws-pricing-works/lambda.html)",
    },
    "lambda_gb_second_arm64": {
        "usd": 0.0000133334,
        "per": 1,
        "unit": "GB-second (first 7.5 billion a month)",
        "source": LAMBDA,
        "read": READ,
        "seen": "https://cloudchipr.com/blog/aws-lambda-pricing (US East; the same 1333340e-11 "
        "in artillery's prices.js, which cites the Lambda page)",
    },
    "lambda_request": {
        "usd": 0.20,
        "per": 1_000_000,
        "unit": "requests",
        "source": LAMBDA,
        "read": READ,
        "seen": LAMBDA + " (worked examples); docs.aws.amazon.com/whitepapers/latest/"
        "how-aws-pricing-works/lambda.html",
    },
    "api_gateway_rest_request": {
        "usd": 3.50,
        "per": 1_000_000,
        "unit": "REST API calls (first 333 million a month)",
        "source": "https://aws.amazon.com/api-gateway/pricing/",
        "read": READ,
        "seen": "https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-"
        "private-apis-integration/cost-optimization.html (Table 4)",
    },
    "sqs_request": {
        "usd": 0.40,
        "per": 1_000_000,
        "unit": "standard-queue requests (64 KB chunks; first 100 billion a month)",
        "source": "https://aws.amazon.com/sqs/pricing/",
        "read": READ,
        "seen": "https://cloudburn.io/blog/amazon-sqs-pricing (US East, as of March 2026); "
        "not legible in a stored copy of the AWS page",
    },
    "s3_put": {
        "usd": 0.005,
        "per": 1000,
        "unit": "S3 Standard PUT, COPY, POST, LIST requests",
        "source": "https://aws.amazon.com/s3/pricing/",
        "read": READ,
        "seen": "https://www.cloudkaramchari.com/blog/understanding-per-1000-put-copy-post-or-"
        "list-requests-in-amazon-s3-pricing/; not legible in a stored copy of the AWS page",
    },
    "s3_get": {
        "usd": 0.0004,
        "per": 1000,
        "unit": "S3 Standard GET, SELECT and all other requests",
        "source": "https://aws.amazon.com/s3/pricing/",
        "read": READ,
        "seen": "NOT FOUND: no stored page shows it (the AWS page renders it client-side); "
        "AWS's long-standing list price, the one benchmarks/batch.py uses, not re-verified",
    },
}
# One vCPU per 1,769 MB (docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html; the
# template's MemorySize description says the same).
MB_PER_VCPU = 1769
# "cold starts typically occur in under 1% of invocations" (AWS Lambda operator guide,
# docs.aws.amazon.com/lambda/latest/operatorguide/execution-environments.html, and
# aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/): the upper end.
API_COLD_SHARE = 0.01


def unit_price(name: str) -> float:
    """USD for one unit (one GB-second, one request) of PRICES[name]."""
    price = PRICES[name]
    return price["usd"] / price["per"]


def template_default(text: str, name: str) -> int:
    """The Default of template parameter `name` (a Number), from the template's text."""
    found = re.search(rf"^  {name}:\n(?:    .*\n)*?    Default: (\d+)$", text, re.MULTILINE)
    if found is None:
        raise ValueError(f"template.yaml: no numeric Default for parameter {name}")
    return int(found.group(1))


def load_inputs(root: Path = ROOT) -> dict[str, Any]:
    """The committed measurements and template defaults the cost rests on."""
    bench = root / "benchmarks"
    template = (root / "template.yaml").read_text()
    return {
        "handler": json.loads((bench / "handler.json").read_text()),
        "batch": json.loads((bench / "batch.json").read_text()),
        "cold_start": json.loads((bench / "cold_start.json").read_text()),
        "template": {
            name: template_default(template, name)
            for name in ("MemorySize", "BatchSize", "BatchConcurrency")
        },
    }


def breakdown(gb_seconds: float, architecture: str, **requests: float) -> dict[str, float]:
    """USD by part: `gb_seconds` of compute, and request counts by price name."""
    cost = {part: 0.0 for part in PARTS}
    cost["lambda_compute"] = gb_seconds * unit_price(f"lambda_gb_second_{architecture}")
    parts = {
        "lambda_request": "lambda_requests",
        "api_gateway_rest_request": "api_gateway",
        "s3_put": "s3",
        "s3_get": "s3",
        "sqs_request": "sqs",
    }
    for name, count in requests.items():
        cost[parts[name]] += count * unit_price(name)
    rounded = {part: round(usd, 8) for part, usd in cost.items()}
    return {**rounded, "total": round(sum(cost.values()), 8)}


def compute(inputs: dict[str, Any]) -> dict[str, Any]:
    """Cost per IMAGES images, by path and architecture, with what it rests on."""
    handler, batch, cold = inputs["handler"], inputs["batch"], inputs["cold_start"]
    memory_mb = inputs["template"]["MemorySize"]
    batch_size = inputs["template"]["BatchSize"]
    concurrency = inputs["template"]["BatchConcurrency"]
    gb = memory_mb / 1024
    vcpus = memory_mb / MB_PER_VCPU
    # Measured on batch.json's cores; the function has `vcpus` of one.
    scale = max(1.0, batch["cores"] / vcpus)
    shipped = next(v for k, v in cold["variants"].items() if "as shipped" in k)
    cold_extra_ms = shipped["init_ms"] + shipped["first_ms"] - shipped["warm_p50_ms"]
    cold_extra_billed = math.ceil(cold_extra_ms * scale)

    api_warm_billed = math.ceil(handler["p50_ms"] * scale)
    api_colds = round(IMAGES * API_COLD_SHARE)
    api_ms = IMAGES * api_warm_billed + api_colds * cold_extra_billed

    sets = {k: v for k, v in batch.items() if isinstance(v, dict) and "per_image_ms" in v}
    slowest = max(sets, key=lambda k: sets[k]["per_image_ms"])
    invocations = math.ceil(IMAGES / batch_size)
    batch_billed = math.ceil(batch_size * sets[slowest]["per_image_ms"] * scale)
    batch_ms = invocations * batch_billed + concurrency * cold_extra_billed

    per_1000: dict[str, dict[str, dict[str, float]]] = {"api": {}, "batch": {}}
    for arch in ARCHITECTURES:
        per_1000["api"][arch] = breakdown(
            api_ms / 1000 * gb,
            arch,
            lambda_request=IMAGES,
            api_gateway_rest_request=IMAGES,
        )
        per_1000["batch"][arch] = breakdown(
            batch_ms / 1000 * gb,
            arch,
            lambda_request=invocations,
            s3_put=3 * IMAGES,
            s3_get=3 * IMAGES,
            sqs_request=3 * IMAGES,
        )
    cores = batch["cores"]
    return {
        "images": IMAGES,
        "prices_read": READ,
        "prices": PRICES,
        "inputs": {
            "memory_mb": memory_mb,
            "batch_size": batch_size,
            "batch_concurrency": concurrency,
            "measured_cores": cores,
            "function_vcpus": round(vcpus, 3),
            "duration_scale": round(scale, 3),
            "api_warm_ms": handler["p50_ms"],
            "batch_set": slowest,
            "batch_per_image_ms": sets[slowest]["per_image_ms"],
            "cold_start_extra_ms": round(cold_extra_ms, 1),
        },
        "billed_ms": {
            "api_warm_request": api_warm_billed,
            "batch_invocation": batch_billed,
            "cold_start_extra": cold_extra_billed,
            "api_cold_starts": api_colds,
            "batch_cold_starts": concurrency,
            "batch_invocations": invocations,
        },
        "assumptions": [
            f"us-east-1 on-demand prices as published, read {READ}; free tiers ignored.",
            f"Memory {memory_mb} MB (template.yaml's MemorySize default) for both functions.",
            "arm64 is not measured here (emulated timings mean nothing): arm64 is priced at the "
            "x86_64 durations; only the GB-second price differs.",
            f"Durations measured on {cores} cores are scaled by {scale:.3f} ({cores} / "
            f"{vcpus:.3f} vCPU at {MB_PER_VCPU} MB per vCPU), as if the measurement used every "
            "core: an upper bound.",
            f"API: {handler['p50_ms']:.1f} ms warm per 1024x768 JPEG (handler.json p50), billed "
            f"{api_warm_billed} ms per request (rounded up to 1 ms); one API Gateway REST call "
            "and one Lambda request per image.",
            f"Cold start: INIT + first invocation - warm, {cold_extra_ms:.1f} ms in Lambda's "
            f"emulator (cold_start.json, as shipped), billed {cold_extra_billed} ms (a "
            "container image's INIT is billed); the API has one per "
            f"{round(1 / API_COLD_SHARE)} requests (AWS: under 1% of invocations), the batch "
            f"one per function of BatchConcurrency ({concurrency}) per 1,000 images.",
            f"Batch: {sets[slowest]['per_image_ms']} ms per image ({slowest}, batch.json, S3 in "
            f"process), {invocations} invocations of BatchSize ({batch_size}) images billed "
            f"{batch_billed} ms each; real S3 round trips inside the function are not measured "
            "and would add billed time.",
            "Batch S3: per image the client's upload PUT, the function's GET and two PUTs (mask, "
            "JSON), the client's two GETs; the client's LISTs are left out. SQS: the S3 "
            "notification's send, the receive and the delete counted per message (an upper "
            "bound: Lambda receives and deletes in batches); idle polling is left out.",
            "Not counted: data transfer out, CloudWatch Logs, the ECR image's storage.",
        ],
        "per_1000_images": per_1000,
    }


def table(report: dict[str, Any]) -> str:
    """The report as Markdown: the figures, then the date and the assumptions."""
    lines = [
        f"Cost per {report['images']:,} images, USD, AWS us-east-1 prices read "
        f"{report['prices_read']} (`benchmarks/cost.json`):",
        "",
        "| path | architecture | Lambda compute | Lambda requests | API Gateway | S3 | SQS "
        "| total |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path, by_arch in report["per_1000_images"].items():
        for arch, cost in by_arch.items():
            cells = " | ".join(f"{cost[part]:.4f}" for part in PARTS)
            lines.append(f"| {path} | {arch} | {cells} | **{cost['total']:.4f}** |")
    lines += ["", "Assumptions:", ""]
    lines += [f"- {assumption}" for assumption in report["assumptions"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cost", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "cost.json")
    parser.add_argument(
        "--table", action="store_true", help="print --json as a Markdown table, computing nothing"
    )
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.json.read_text())))
        return 0
    report = compute(load_inputs())
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""benchmarks/cost.py: its arithmetic, its committed JSON, and its price table's sources."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from benchmarks import cost
from benchmarks.process import ROOT
from cfn_support import load_template

COMMITTED = ROOT / "benchmarks" / "cost.json"


def made_up(p50_ms: float = 9.2, per_image_ms: float = 5.05) -> dict[str, Any]:
    """One core, 2048 MB (over one vCPU, so no scaling), batches of 4, two batch functions."""
    return {
        "handler": {"p50_ms": p50_ms},
        "batch": {"cores": 1, "batch_size": 4, "one set": {"per_image_ms": per_image_ms}},
        "cold_start": {
            "variants": {
                "bytecode compiled at build (as shipped)": {
                    "init_ms": 100.0,
                    "first_ms": 60.0,
                    "warm_p50_ms": 10.0,
                },
                "no bytecode": {"init_ms": 9999.0, "first_ms": 9999.0, "warm_p50_ms": 1.0},
            }
        },
        "template": {"MemorySize": 2048, "BatchSize": 4, "BatchConcurrency": 2},
    }


def test_the_arithmetic_on_a_made_up_input() -> None:
    report = cost.compute(made_up())
    assert report["billed_ms"] == {
        "api_warm_request": 10,  # 9.2 ms, rounded up to 1 ms
        "batch_invocation": 21,  # 4 x 5.05 = 20.2 ms
        "cold_start_extra": 150,  # 100 + 60 - 10
        "api_cold_starts": 10,  # 1% of 1,000
        "batch_cold_starts": 2,  # one per batch function
        "batch_invocations": 250,  # 1,000 / 4
    }
    api, batch = report["per_1000_images"]["api"], report["per_1000_images"]["batch"]
    # API: (1,000 x 10 ms + 10 x 150 ms) x 2 GB = 23 GB-s.
    assert api["x86_64"]["lambda_compute"] == pytest.approx(23 * 0.0000166667, abs=1e-8)
    assert api["arm64"]["lambda_compute"] == pytest.approx(23 * 0.0000133334, abs=1e-8)
    assert api["x86_64"]["lambda_requests"] == pytest.approx(0.0002)
    assert api["x86_64"]["api_gateway"] == pytest.approx(0.0035)
    assert api["x86_64"]["s3"] == api["x86_64"]["sqs"] == 0
    # Batch: (250 x 21 ms + 2 x 150 ms) x 2 GB = 11.1 GB-s.
    assert batch["x86_64"]["lambda_compute"] == pytest.approx(11.1 * 0.0000166667, abs=1e-8)
    assert batch["arm64"]["lambda_compute"] == pytest.approx(11.1 * 0.0000133334, abs=1e-8)
    assert batch["x86_64"]["lambda_requests"] == pytest.approx(250 * 0.20 / 1e6)
    assert batch["x86_64"]["s3"] == pytest.approx(3000 * 0.005 / 1000 + 3000 * 0.0004 / 1000)
    assert batch["x86_64"]["sqs"] == pytest.approx(3000 * 0.40 / 1e6)
    assert batch["x86_64"]["api_gateway"] == 0
    for by_arch in report["per_1000_images"].values():
        for figures in by_arch.values():
            parts = sum(figures[part] for part in cost.PARTS)
            assert figures["total"] == pytest.approx(parts, abs=1e-7)


def test_durations_scale_to_the_functions_vcpu_share() -> None:
    inputs = made_up(p50_ms=10.0, per_image_ms=5.0)
    inputs["batch"]["cores"] = 2
    inputs["template"]["MemorySize"] = 1769  # one vCPU: measured on 2 cores, twice as long
    billed = cost.compute(inputs)["billed_ms"]
    assert billed["api_warm_request"] == 20
    assert billed["batch_invocation"] == 40
    assert billed["cold_start_extra"] == 300


def test_the_committed_json_is_what_the_committed_measurements_give() -> None:
    assert json.loads(COMMITTED.read_text()) == cost.compute(cost.load_inputs())


def test_the_template_defaults_are_read_from_the_template() -> None:
    template = load_template(ROOT / "template.yaml")
    read = cost.load_inputs()["template"]
    for name, value in read.items():
        assert value == template["Parameters"][name]["Default"]
    for function in ("SegmentationFunction", "BatchFunction"):
        assert template["Resources"][function]["Properties"]["MemorySize"] == {"Ref": "MemorySize"}


def test_every_price_has_a_date_and_a_source() -> None:
    assert set(cost.PRICES) >= {
        "lambda_gb_second_x86_64",
        "lambda_gb_second_arm64",
        "lambda_request",
        "api_gateway_rest_request",
        "sqs_request",
        "s3_put",
        "s3_get",
    }
    for name, price in cost.PRICES.items():
        assert datetime.date.fromisoformat(price["read"]), name
        assert price["source"].startswith("https://aws.amazon.com/"), name
        assert price["seen"], name
        assert price["usd"] > 0 and price["per"] >= 1, name


def test_the_table_prints_the_committed_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost.main(["--table", "--json", str(COMMITTED)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(COMMITTED.read_text())
    assert report["prices_read"] in printed
    assert "arm64 is priced at the x86_64 durations" in printed
    for path in ("api", "batch"):
        for arch in cost.ARCHITECTURES:
            total = report["per_1000_images"][path][arch]["total"]
            assert f"| {path} | {arch} |" in printed and f"**{total:.4f}**" in printed

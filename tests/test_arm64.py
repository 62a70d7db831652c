"""benchmarks/arm64.json (the served prediction on aarch64 under qemu vs x86_64): well-formed,
consistent, and saying what the notes claim; and the worker's pieces, offline, without qemu."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from benchmarks import arm64

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "benchmarks" / "arm64.json"
SIDES_VERSIONS = ("python", "numpy", "pillow", "ai-edge-litert")
STANDARD_SETS = ("holdout_crops", "holdout_fullview", "validation")


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(COMMITTED.read_text())
    return data


def guest_runs(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    runs: dict[str, dict[str, Any]] = report["aarch64"]
    return runs


def test_it_names_the_date_the_machine_and_the_versions_of_both_sides(
    report: dict[str, Any],
) -> None:
    assert report["date"].endswith("Z") and report["date"][:4].isdigit()
    assert {"host_cpu", "qemu", "guest_root"} <= set(report["machine"])
    assert "qemu" in report["machine"]["qemu"]
    pins = dict(pin.split("==") for pin in arm64.serve_pins())
    native = report["x86_64"]["versions"]
    assert native["machine"] == "x86_64"
    assert guest_runs(report), "no aarch64 run"
    for key, run in guest_runs(report).items():
        assert key.split("@")[0] in arm64.CPUS
        assert run["versions"]["machine"] == "aarch64"
        for side in (native, run["versions"]):
            assert set(SIDES_VERSIONS) <= set(side)
            # Exactly the serving pins of requirements/serve.txt, on both sides.
            assert {name: side[name] for name in pins} == pins
        # Both sides ran XNNPACK (without a /sys cpuinfo can read, it is silently off).
        assert run["xnnpack_delegate"] and report["x86_64"]["xnnpack_delegate"]


def test_it_is_about_the_deployed_model(report: dict[str, Any]) -> None:
    deployed = hashlib.sha256((ROOT / "models" / "unet.tflite").read_bytes()).hexdigest()
    assert report["model_sha256"] == deployed, "models/unet.tflite changed: rerun arm64 run"
    for run in guest_runs(report).values():
        assert run["model_sha256"] == deployed


def check_subset(subset: dict[str, Any]) -> dict[str, int]:
    full, used = subset["full_set_sizes"], subset["used"]
    assert set(STANDARD_SETS) <= set(full)
    assert set(used) == {"fixtures", *full}
    for name, size in full.items():
        assert 0 < used[name] <= size
        if subset["per_set"] is None:
            assert used[name] == size
        else:
            assert used[name] == min(size, subset["per_set"])
    counts: dict[str, int] = used
    return counts


def test_every_set_is_there_and_the_counts_add_up(report: dict[str, Any]) -> None:
    check_subset(report["subset"])
    assert report["subset"]["per_set"] is None, "the report's own runs are on the whole sets"
    for run in guest_runs(report).values():
        # A run added later on a subset (--add --per-set) says so; the others are the report's.
        used = check_subset(run.get("subset", report["subset"]))
        sets = run["sets"]
        assert set(sets) == set(used)
        for name, entry in sets.items():
            assert entry["n"] == used[name]
            assert entry["n_decoded"] + entry["n_errors"] == entry["n"]
            decoded = entry["n_decoded"]
            for count in (
                "identical_masks",
                "identical_mask_pngs",
                "identical_served_pngs",
                "identical_probability_maps",
            ):
                assert 0 <= entry[count] <= decoded
            assert len(entry["differing_masks"]) == decoded - entry["identical_masks"]
            assert (entry["images_with_probability_diff"] == 0) == (
                entry["max_abs_probability_diff"] == 0
            )
            assert (
                entry["identical_probability_maps"] + entry["images_with_probability_diff"]
                == decoded
            )
            if name != "fixtures":
                dice = entry["dice"]
                assert 0 <= dice["x86_64_mean"] <= 1 and 0 <= dice["aarch64_mean"] <= 1
                assert dice["paired_mean_diff"] == pytest.approx(
                    dice["aarch64_mean"] - dice["x86_64_mean"], abs=1e-12
                )
        # The fixtures include files the decoder refuses: refused alike on both sides.
        assert sets["fixtures"]["n_errors"] > 0
        assert all(entry["errors_identical"] for entry in sets.values())


BROKEN_EMULATION = "max"
"""qemu 7.2's -cpu max (SME on): every probability map comes out 0. The same CPU model under
qemu 10.0.2, and qemu 7.2's max with SME off, agree bit for bit with x86_64, so this is qemu
7.2's SME emulation, not the model on arm64 (no Graviton has SME)."""


def test_what_the_note_claims_every_mask_is_identical_on_arm64(report: dict[str, Any]) -> None:
    """The closing note: on aarch64 (Graviton2's core, and every feature qemu 10 emulates)
    every mask, served PNG and probability map is bit-identical to x86_64's, so the gate's
    Dice check changes by exactly 0."""
    runs = guest_runs(report)
    assert {"neoverse-n1", "max-sme-off-sve256", "max@qemu-10.0.2"} <= set(runs)
    for key, run in runs.items():
        if key == BROKEN_EMULATION:
            continue
        for entry in run["sets"].values():
            decoded = entry["n_decoded"]
            assert entry["identical_masks"] == decoded
            assert entry["identical_served_pngs"] == decoded
            assert entry["identical_probability_maps"] == decoded
            assert entry["max_abs_probability_diff"] == 0.0
            if "dice" in entry:
                assert entry["dice"]["paired_mean_diff"] == 0.0
                assert entry["dice"]["images_with_dice_change"] == 0
                assert entry["within_gate_tolerance"]


def test_the_one_divergent_run_is_qemu_7_2s_sme(report: dict[str, Any]) -> None:
    """What the note says of qemu 7.2's -cpu max: an all-zero model output (Dice 0 on every
    set, refused by the gate), where qemu 10.0.2's max is identical to x86_64."""
    run = guest_runs(report)[BROKEN_EMULATION]
    assert "version 7.2" in report["machine"]["qemu"]
    for name, entry in run["sets"].items():
        assert entry["identical_probability_maps"] < entry["n_decoded"]
        if name != "fixtures":
            assert entry["dice"]["aarch64_mean"] == 0.0
            assert not entry["within_gate_tolerance"]
    newer = guest_runs(report)["max@qemu-10.0.2"]
    assert "10.0.2" in newer["qemu"]
    assert newer["subset"]["per_set"] is not None, "a subset: qemu 10's SME is slow"


def test_the_served_mask_png_is_the_apis() -> None:
    """The worker cannot import lesion_api (no web stack in the aarch64 venv): it encodes the
    mask with segcore's encoding, the one the API serves."""
    from lesion_api import segmentation

    rng = np.random.default_rng(0)
    mask = Image.fromarray(np.where(rng.random((37, 53)) > 0.5, 255, 0).astype(np.uint8))
    assert arm64.mask_png_bytes is segmentation.mask_png_bytes
    assert arm64.mask_png_bytes(mask) == segmentation.mask_png_bytes(mask)


def test_the_subset_is_deterministic_and_spread() -> None:
    items = [{"set": "s", "id": f"{i:03d}", "image": ""} for i in range(10)]
    assert arm64.subset(items, None) == items
    assert arm64.subset(items, 20) == items
    picked = [item["id"] for item in arm64.subset(items, 4)]
    assert picked == ["000", "002", "005", "007"]


def test_the_fake_cpu_files_describe_a_graviton(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(arm64, "BUILD", tmp_path)
    folder = arm64.fake_cpu_files("neoverse-n1")
    cpus = folder / "sys" / "devices" / "system" / "cpu"
    assert (cpus / "possible").read_text() == f"0-{arm64.GUEST_CORES - 1}\n"
    text = (folder / "cpuinfo").read_text()
    assert text.count("processor\t:") == arm64.GUEST_CORES
    assert "CPU part\t: 0xd0c" in text and "asimddp" in text


def test_the_worker_records_every_input(tmp_path: Path) -> None:
    """The worker both Pythons run, natively on two fixtures (one the decoder refuses)."""
    fixtures = ROOT / "tests" / "fixtures"
    items = [
        {"set": "fixtures", "id": "samples/ISIC_0000012.jpg", "image": ""},
        {"set": "fixtures", "id": "crafted/truncated_ihdr.png", "image": ""},
    ]
    for item in items:
        item["image"] = str(fixtures / item["id"])
    result = arm64.worker(items, tmp_path)
    good, bad = result["records"]
    assert "error" in bad and "error" not in good
    assert result["versions"]["machine"]
    mask = tmp_path / "masks" / "fixtures" / arm64.mask_file(good["id"])
    with Image.open(mask) as image:
        assert image.size == (good["width"], good["height"])
        assert hashlib.sha256(image.tobytes()).hexdigest() == good["mask_sha256"]
    maps = np.load(tmp_path / "fixtures.npy")
    assert maps.shape == (2, result["input_size"], result["input_size"])
    assert np.isnan(maps[1]).all() and np.isfinite(maps[0]).all()

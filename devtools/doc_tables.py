"""The documentation's tables of results and benchmarks, rendered from the committed JSON.

    python -m devtools.doc_tables --table NAME   # one of this module's tables (NAMES)
    python -m devtools.doc_tables --check        # every generated block in the docs is current
    python -m devtools.doc_tables --write        # rewrite every generated block from its JSON

A generated block in a document (README.md, docs/*.md, models/MODEL_CARD.md) is

    <!-- MODULE --table [ARGUMENT] -->
    ...exactly what `python -m MODULE --table [ARGUMENT]` prints...
    <!-- end -->

and BLOCKS maps each such command to its renderer (this module's tables and the renderers that
live beside the benchmarks and studies). tests/test_docs_tables.py fails when a committed block
differs from what its renderer makes of the committed JSON. Every table says when and where it
was measured, as its JSON records it, or that the JSON does not record it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
BENCHMARKS = ROOT / "benchmarks"
NOT_RECORDED = "not recorded in the JSON"

SET_NAMES = {
    "holdout_crops": "held-out crops (512 px)",
    "holdout_fullview": "same ids, full field",
    "validation": "official validation (128 px)",
    "hard_cases": "hard cases",
}
# The project's quality goals for the deployed file (issues 9 and 34): Dice per set, the
# validation set's thresholded Jaccard, and no hard-case group below HARD_CASE_GROUP_FLOOR.
DICE_GOALS = {
    "holdout_crops": 0.90,
    "holdout_fullview": 0.88,
    "validation": 0.89,
    "hard_cases": 0.80,
}
VALIDATION_TJ_GOAL = 0.76
HARD_CASE_GROUP_FLOOR = 0.70
HANDLER_P50_GOAL_MS = 15.0  # issue 34: the Lambda handler in-process, p50


def load(path: Path) -> Any:
    """A committed JSON document."""
    return json.loads(path.read_text())


def _row(cells: list[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _header(columns: list[str]) -> list[str]:
    return [_row(list(columns)), "| --- " * len(columns) + "|"]


def _when(document: dict[str, Any], date_key: str = "measured", where_key: str = "machine") -> str:
    """`measured DATE on MACHINE`, with what the document does not record said so."""
    when = document.get(date_key) or NOT_RECORDED
    where = document.get(where_key)
    if where is None and "cores" in document:
        where = f"{document['cores']} cores"
    return f"when: {when}; where: {where or NOT_RECORDED}"


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


# --- the model: quality ----------------------------------------------------------------------


def _deployed_sets(parity: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The deployed flavour's scores in the serving runtime, in the other runtime, its name."""
    flavour = parity["flavours"][parity["deployed"]["flavour"]]
    other = next(
        (name, check)
        for name, check in flavour["runtimes"].items()
        if name != parity["serving_runtime"]
    )
    return flavour["sets"], other[1].get("sets", {}), f"{other[0]} {other[1]['version']}"


def results() -> str:
    """The README's table: float and deployed Dice per evaluation set, and the speed (lines of
    at most 100 characters, as the README's)."""
    metrics = load(MODELS / "metrics.json")
    parity = load(MODELS / "parity.json")
    hard = load(MODELS / "hard_cases.json")
    speed = load(BENCHMARKS / "inference.json")
    served, other, other_name = _deployed_sets(parity)
    serving = parity["serving_runtime"]
    flavour = parity["deployed"]["flavour"]
    serving_version = parity["flavours"][flavour]["runtimes"][serving]["version"]
    other_runtime = other_name.split()[0]
    lines = _header(
        ["evaluation set", "n", "float Dice", "served Dice", f"{other_runtime} Dice", "TJ"]
    )
    for key in ("holdout_crops", "holdout_fullview", "validation"):
        lines.append(
            _row(
                [
                    SET_NAMES[key],
                    metrics[key]["n"],
                    f"{metrics[key]['dice']:.4f}",
                    f"{served[key]['dice']:.4f}",
                    f"{other[key]['dice']:.4f}" if key in other else "-",
                    f"{served[key]['threshold_jaccard']:.4f}",
                ]
            )
        )
    everything = hard["all"]
    lines.append(
        _row(
            [
                "hard cases: small, faint, distractors",
                everything["n"],
                "-",
                f"{everything['dice']:.4f}",
                "-",
                f"{everything['threshold_jaccard']:.4f}",
            ]
        )
    )
    by_stack = {r["stack"]: r for r in speed}
    deployed, seed = by_stack["deployed"], by_stack["seed"]
    caption = (
        "Per-image mean Dice at each ground truth's own resolution (ISIC 2018 definitions). "
        f"Float: the Keras model (`models/metrics.json`); served: the deployed {flavour} file in "
        f"{serving} {serving_version}, and the same file in {other_name} (`models/parity.json`); "
        "TJ: the served file's thresholded Jaccard; hard cases: `models/hard_cases.json`. When "
        "and where: not recorded in these JSONs. Speed, one 1022x767 image end to end "
        f"(`benchmarks/inference.json`, {_when(deployed)}): p50 {deployed['p50_ms']:.1f} ms "
        f"with {deployed['unet_passes']} U-Net pass, {seed['p50_ms'] / deployed['p50_ms']:.1f}x "
        f"faster than the seed's stack ({seed['p50_ms']:.1f} ms)."
    )
    lines += ["", *textwrap.wrap(caption, width=100, break_on_hyphens=False)]
    return "\n".join(lines) + "\n"


def evaluation() -> str:
    """The model card's evaluation table: every metric per set, float and deployed, and goals."""
    metrics = load(MODELS / "metrics.json")
    parity = load(MODELS / "parity.json")
    hard = load(MODELS / "hard_cases.json")
    served, _, _ = _deployed_sets(parity)
    lines = _header(
        [
            "evaluation set",
            "n",
            "Dice",
            "Jaccard",
            "thresholded Jaccard",
            "sensitivity",
            "specificity",
            "deployed Dice / thresholded Jaccard",
            "goal (deployed file)",
        ]
    )
    sets = {key: metrics[key] for key in ("holdout_crops", "holdout_fullview", "validation")}
    for key, m in sets.items():
        goal = f"Dice >= {DICE_GOALS[key]:.2f}: {_met(served[key]['dice'] >= DICE_GOALS[key])}"
        if key == "validation":
            tj_ok = served[key]["threshold_jaccard"] >= VALIDATION_TJ_GOAL
            goal += f"; TJ >= {VALIDATION_TJ_GOAL:.2f}: {_met(tj_ok)}"
        lines.append(
            _row(
                [
                    SET_NAMES[key],
                    m["n"],
                    f"{m['dice']:.4f}",
                    f"{m['jaccard']:.4f}",
                    f"{m['threshold_jaccard']:.4f}",
                    f"{m['sensitivity']:.4f}",
                    f"{m['specificity']:.4f}",
                    f"{served[key]['dice']:.4f} / {served[key]['threshold_jaccard']:.4f}",
                    goal,
                ]
            )
        )
    a = hard["all"]
    lowest = min(hard["groups"].items(), key=lambda item: item[1]["dice"])
    ok = a["dice"] >= DICE_GOALS["hard_cases"] and lowest[1]["dice"] >= HARD_CASE_GROUP_FLOOR
    lines.append(
        _row(
            [
                "hard cases (deployed file only)",
                a["n"],
                f"{a['dice']:.4f}",
                f"{a['jaccard']:.4f}",
                f"{a['threshold_jaccard']:.4f}",
                f"{a['sensitivity']:.4f}",
                f"{a['specificity']:.4f}",
                f"{a['dice']:.4f} / {a['threshold_jaccard']:.4f}",
                f"Dice >= {DICE_GOALS['hard_cases']:.2f}, no group < "
                f"{HARD_CASE_GROUP_FLOOR:.2f}: {_met(ok)} (lowest: {lowest[0]}, "
                f"{lowest[1]['dice']:.4f})",
            ]
        )
    )
    lines += [
        "",
        "First columns: the float Keras model (`models/metrics.json`); deployed: the "
        f"{parity['deployed']['flavour']} file in {parity['serving_runtime']} "
        "(`models/parity.json`); hard cases: the deployed file (`models/hard_cases.json`). "
        "When and where: not recorded in these JSONs (the scores do not depend on the machine).",
    ]
    return "\n".join(lines) + "\n"


def hard_case_groups() -> str:
    """The deployed file's Dice on each hard-case group (lesion size, faintness, distractor),
    one column a group."""
    hard = load(MODELS / "hard_cases.json")
    groups = hard["groups"]
    lines = _header(["group", *groups])
    lines.append(_row(["images", *(g["n"] for g in groups.values())]))
    lines.append(_row(["Dice", *(f"{g['dice']:.4f}" for g in groups.values())]))
    lines += [
        "",
        f"`models/hard_cases.json`: {hard['model']} on {hard['cases']}; when and where: "
        f"{NOT_RECORDED}.",
    ]
    return "\n".join(lines) + "\n"


def darker_skin() -> str:
    """The deployed file's Dice at each level of the darker-skin proxy, one column a level."""
    dark = load(MODELS / "darker_skin.json")
    levels = dark["levels"]
    base = levels["0"]
    lines = _header(
        ["level", *(f"{name}" + (" (re-encoded only)" if name == "0" else "") for name in levels)]
    )
    lines += [
        _row(["optical density at blue", *(f"{v['blue_density']:g}" for v in levels.values())]),
        _row(
            ["median skin luma (0-255)", *(f"{v['skin_luma_median']:.1f}" for v in levels.values())]
        ),
        _row(["images", *(v["n"] for v in levels.values())]),
        _row(
            [
                "Dice (vs level 0)",
                *(f"{v['dice']:.4f} ({v['dice'] - base['dice']:+.4f})" for v in levels.values()),
            ]
        ),
        _row(
            [
                "thresholded Jaccard (vs level 0)",
                *(
                    f"{v['threshold_jaccard']:.4f} "
                    f"({v['threshold_jaccard'] - base['threshold_jaccard']:+.4f})"
                    for v in levels.values()
                ),
            ]
        ),
    ]
    lines += [
        "",
        f"`models/darker_skin.json`: {dark['model']} on {dark['cases']}; when and where: "
        f"{NOT_RECORDED}.",
    ]
    return "\n".join(lines) + "\n"


# --- benchmarks ------------------------------------------------------------------------------


def handler() -> str:
    """The Lambda handler in-process (benchmarks.handler)."""
    h = load(BENCHMARKS / "handler.json")
    speed = load(BENCHMARKS / "one_pass_speed.json")
    same_run = next((name for name, run in speed["runs"].items() if run == h), None)
    when = _when(h)
    if same_run:
        when = (
            f"the same figures as `one_pass_speed.json`'s {same_run}, measured "
            f"{speed['measured']} on {speed['cores']} cores"
        )
    g = h["goals"]
    lines = _header(["figure", "value", "the benchmark's goal"])
    lines += [
        _row(
            [
                "p50 / p95 per request",
                f"{h['p50_ms']:.1f} / {h['p95_ms']:.1f} ms",
                f"{g['p50_ms']:g} ms",
            ]
        ),
        _row(
            [
                "import + model load",
                f"{h['import_and_load_s']:.2f} s",
                f"{g['import_and_load_s']:g} s",
            ]
        ),
        _row(["cold start to the first answer", f"{h['cold_start_s']:.2f} s", "-"]),
        _row(["peak RSS", f"{h['peak_rss_mb']:.0f} MB", f"{g['peak_rss_mb']:g} MB"]),
    ]
    lines += [
        "",
        f"Issue 34's goal, p50 <= {HANDLER_P50_GOAL_MS:g} ms: "
        f"{_met(h['p50_ms'] <= HANDLER_P50_GOAL_MS)}. "
        f"`benchmarks/handler.json`: API Gateway REST events with a {h['upload_bytes']:,}-byte "
        f"JPEG, {h['runs']} runs, model {h['model']['flavour']} "
        f"`{h['model']['sha256'][:12]}`; {when}.",
    ]
    return "\n".join(lines) + "\n"


def one_pass_speed() -> str:
    """One U-Net pass against the eight served before, alternated in one session."""
    speed = load(BENCHMARKS / "one_pass_speed.json")
    lines = _header(["run, in order", "deployed p50 ms", "seed's stack p50 ms", "speed-up"])
    for name in speed["order"]:
        run = speed["runs"][name]
        if isinstance(run, list):
            by = {r["stack"]: r for r in run}
            d, s = by["deployed"]["p50_ms"], by["seed"]["p50_ms"]
            lines.append(_row([name, f"{d:.1f}", f"{s:.1f}", f"{s / d:.1f}x"]))
        else:
            lines.append(_row([name + " (Lambda handler)", f"{run['p50_ms']:.1f}", "-", "-"]))
    lines += ["", f"`benchmarks/one_pass_speed.json`: {speed['what']}; {_when(speed)}."]
    return "\n".join(lines) + "\n"


def cold_start() -> str:
    """The image's INIT under its Lambda emulator (benchmarks.cold_start)."""
    c = load(BENCHMARKS / "cold_start.json")
    g = c["goals"]
    lines = _header(["variant", "INIT ms", "first invocation ms", "warm p50 ms"])
    for name, v in c["variants"].items():
        lines.append(
            _row([name, f"{v['init_ms']:.1f}", f"{v['first_ms']:.1f}", f"{v['warm_p50_ms']:.1f}"])
        )
    b = c.get("baseline")
    lines.append("")
    if b:
        lines.append(
            f"Against `{b['image']}` ({b['label']}) started in turn in the same run: INIT "
            f"{b['init_ms']:.1f} ms against {b['baseline_init_ms']:.1f} ms "
            f"({b['init_vs_baseline']:.3f}x). "
        )
        if "goal_vs_baseline" in b:
            lines[-1] += (
                f"The INIT goal read as that ratio ({g['init_ms']:g} ms over the baseline's INIT "
                f"where the goal was set): <= {b['goal_vs_baseline']:.3f}x "
                f"({_met(b['init_vs_baseline'] <= b['goal_vs_baseline'])}). "
            )
    layer = c["serving_layer_mb"]
    shipped = next(iter(c["variants"].values()))["init_ms"]
    lines[-1] += (
        f"Goals: INIT <= {g['init_ms']:g} ms ({_met(shipped <= g['init_ms'])} for the first "
        f"variant), serving layer <= {g['serving_layer_mb']:g} MB ({layer:.1f} MB: "
        f"{_met(layer <= g['serving_layer_mb'])}). `benchmarks/cold_start.json`, {c['runs']} "
        f"runs, base {c['base']}; {_when(c)}."
    )
    return "\n".join(lines) + "\n"


def latency() -> str:
    """p50 through the API by JPEG size (benchmarks.latency)."""
    lat = load(BENCHMARKS / "latency.json")
    compared = all("compared_p50_ms" in r for r in lat["rows"])
    head = ["JPEG", "bytes", "p50 ms"]
    lines = _header([*head, "p50 ms, the build compared in the same run"] if compared else head)
    for r in lat["rows"]:
        cells = [r["size"], f"{r['bytes']:,}", f"{r['this_p50_ms']:.1f}"]
        lines.append(_row([*cells, f"{r['compared_p50_ms']:.1f}"] if compared else cells))
    big = lat["rows"][-1]
    lines += [
        "",
        f"Goal: a 12 MP JPEG in <= {lat['goal_12mp_p50_ms']:g} ms ({big['size']}: "
        f"{_met(big['this_p50_ms'] <= lat['goal_12mp_p50_ms'])}). `benchmarks/latency.json`, "
        f"{lat['runs']} runs each; the compared build: "
        f"{lat.get('compared_build') or 'not named in the JSON'}; {_when(lat)}.",
    ]
    return "\n".join(lines) + "\n"


def memory() -> str:
    """Peak RSS of the worst accepted uploads (benchmarks.memory)."""
    mem = load(BENCHMARKS / "memory.json")
    lines = _header(["upload (fresh process each)", "status", "RSS at rest MB", "peak RSS MB"])
    for name, r in mem["fresh"].items():
        lines.append(_row([name, r["status"], f"{r['ready_rss_mb']:.1f}", f"{r['peak_mb']:.1f}"]))
    warm = mem["warm"]
    rounds = ", ".join(f"{v:.1f}" for v in warm["rss_after_each_round_mb"])
    peak = max([warm["peak_mb"], *(r["peak_mb"] for r in mem["fresh"].values())])
    lines += [
        "",
        f"One warm process, {len(warm['rss_after_each_round_mb'])} rounds of all of them: RSS "
        f"after each round {rounds} MB, peak {warm['peak_mb']:.1f} MB. Goal: peak <= "
        f"{mem['goal_peak_mb']:g} MB ({_met(peak <= mem['goal_peak_mb'])}). "
        f"`benchmarks/memory.json`; {_when(mem)}.",
    ]
    return "\n".join(lines) + "\n"


def _designs(doc: dict[str, Any]) -> list[str]:
    lines = _header(
        [
            "design",
            "clients",
            "requests/s",
            "p50 / p95 / p99 ms",
            "errors",
            "wrong masks",
            "server peak RSS MB",
        ]
    )
    for name, design in doc["designs"].items():
        label = f"{name} ({design['interpreters']} x {design['num_threads']} threads)"
        for r in design["rows"]:
            lines.append(
                _row(
                    [
                        label,
                        r["clients"],
                        f"{r['requests_per_s']:.1f}",
                        f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} / {r['p99_ms']:.1f}",
                        r["errors"],
                        r["wrong_masks"],
                        f"{r['server_peak_rss_mb']:.1f}",
                    ]
                )
            )
    return lines


def load_test() -> str:
    """N clients against uvicorn, and the soak (benchmarks.load)."""
    doc = load(BENCHMARKS / "load.json")
    lines = _designs(doc)
    soak = doc.get("soak")
    lines.append("")
    if soak:
        rss = ", ".join(f"{v:.1f}" for v in soak["rss_every_250_mb"])
        lines.append(
            f"Soak: {soak['requests']:,} requests from {soak['clients']} clients (one in three a "
            f"broken file): {soak['5xx']} 5xx, {soak['4xx']} 4xx, {soak['wrong_masks']} wrong "
            f"masks; server RSS every 250 requests {rss} MB. "
        )
    lines[-1] += (
        f"`benchmarks/load.json`: {doc['images']} real images; {_when(doc)}; the model measured "
        f"is {NOT_RECORDED}."
    )
    return "\n".join(lines) + "\n"


def concurrency() -> str:
    """The earlier design comparison (benchmarks/concurrency.json)."""
    doc = load(BENCHMARKS / "concurrency.json")
    lines = _designs(doc)
    lines += [
        "",
        f"`benchmarks/concurrency.json`: {doc['images']} real images; {_when(doc)}; the model "
        f"measured is {NOT_RECORDED} (an earlier run than `load.json`).",
    ]
    return "\n".join(lines) + "\n"


def batch() -> str:
    """Batch throughput on real images, and the 10,000-image projection (benchmarks.batch)."""
    doc = load(BENCHMARKS / "batch.json")
    sets = {k: v for k, v in doc.items() if isinstance(v, dict) and "images_per_s" in v}
    lines = _header(
        ["images", "count", "median size", "images/s", "segmentation p50 ms", "per image ms"]
    )
    for name, s in sets.items():
        lines.append(
            _row(
                [
                    name,
                    s["images"],
                    s["median_size"],
                    f"{s['images_per_s']:.1f}",
                    f"{s['segmentation_ms_median']:.1f}",
                    f"{s['per_image_ms']:.1f}",
                ]
            )
        )
    lines += ["", *_header(["10,000 images at", "s per image", "minutes at concurrency", "USD"])]
    for p in doc["projection_10000"]:
        minutes = ", ".join(f"{c}: {m:g}" for c, m in p["wall_minutes_by_concurrency"].items())
        lines.append(
            _row(
                [
                    f"{p['memory_mb']} MB",
                    f"{p['assumed_s_per_image']:g}",
                    minutes,
                    f"{p['total_usd']:.2f}",
                ]
            )
        )
    lines += [
        "",
        f"`benchmarks/batch.json`: one warm function, batches of {doc['batch_size']}, S3 "
        f"in-process (moto, no real S3 round trips); prices {doc['prices']['date']}; "
        f"{_when(doc)}; the model measured is {NOT_RECORDED}.",
    ]
    return "\n".join(lines) + "\n"


def model_sizes() -> str:
    """One int8 model call by input size and width (benchmarks.model_sizes)."""
    doc = load(BENCHMARKS / "model_sizes.json")
    lines = _header(
        ["size", "base", "parameters", "int8 bytes", "p50 ms 1 thread", "p50 ms 2 threads"]
    )
    for r in doc["rows"]:
        lines.append(
            _row(
                [
                    r["size"],
                    r["base_filters"],
                    f"{r['parameters']:,}",
                    f"{r['int8_bytes']:,}",
                    f"{r['p50_ms_1_thread']:.1f}",
                    f"{r['p50_ms_2_thread']:.1f}",
                ]
            )
        )
    lines += [
        "",
        f"`benchmarks/model_sizes.json`: {doc['runtime']}, random weights, batch 1, median of 50; "
        f"{_when(doc)}.",
    ]
    return "\n".join(lines) + "\n"


def decoding_parity() -> str:
    """The serving decode against a full-resolution decode (benchmarks.decoding_parity)."""
    doc = load(BENCHMARKS / "decoding_parity.json")
    lines = _header(
        ["set", "n", "Dice, serving decode", "Dice, full decode", "difference", "same pixels"]
    )
    for name, s in doc.items():
        lines.append(
            _row(
                [
                    SET_NAMES.get(name, name),
                    s["n"],
                    f"{s['dice_serving_decode']:.5f}",
                    f"{s['dice_full_decode']:.5f}",
                    f"{s['delta']:+.5f}",
                    f"{s['mean_pixel_agreement']:.2%}",
                ]
            )
        )
    lines += [
        "",
        f"`benchmarks/decoding_parity.json`; the model, when and where: {NOT_RECORDED} (the model "
        "card of 2026-11-28 names the stage-1 model).",
    ]
    return "\n".join(lines) + "\n"


def logging_choice() -> str:
    """What structured logging and metrics add at INIT (benchmarks/studies/logging_choice)."""
    doc = load(BENCHMARKS / "studies" / "logging_choice.json")
    lines = _header(["after the app's imports", "added at INIT, median ms", "runs"])
    for name, r in doc["added_at_init"].items():
        lines.append(_row([name, f"{r['median_ms']:.1f}", r["runs"]]))
    lines += [
        "",
        f"`benchmarks/studies/logging_choice.json` (Powertools {doc['powertools_version']}); "
        f"{_when(doc)}.",
    ]
    return "\n".join(lines) + "\n"


# --- studies ---------------------------------------------------------------------------------


def ladder() -> str:
    """The passes-per-image ladder (benchmarks.studies.ladder's table, with its provenance)."""
    from benchmarks.studies import ladder as study

    doc = load(BENCHMARKS / "one_pass_ladder.json")
    return (
        study.table(doc)
        + f"\n\n`benchmarks/one_pass_ladder.json`: reference {doc['reference']}, criteria "
        f"`{doc['criteria']}`; {_when(doc)}. {doc['note']}\n"
    )


POSTPROCESS_STUDIES = {
    "postprocess_stage2": "postprocess_study_b16_128.json",
    "postprocess_stage3": "postprocess_study_b16_128_stage3.json",
    "postprocess_stage4": "postprocess_study_b16_128_stage4.json",
    "postprocess_stage5": "postprocess_study_b16_128_stage5.json",
}


def postprocess(name: str) -> str:
    """Test-time flips, clean-up and thresholds on one int8 file (benchmarks.postprocess_study)."""
    doc = load(BENCHMARKS / POSTPROCESS_STUDIES[name])
    sets = list(doc["dice"])
    lines = _header(["variant", *(SET_NAMES[s] for s in sets)])
    for variant in doc["dice"][sets[0]]:
        lines.append(_row([variant, *(f"{doc['dice'][s][variant]:.4f}" for s in sets)]))
    lines += [
        "",
        f"`benchmarks/{POSTPROCESS_STUDIES[name]}`: `{doc['model']}` (the path when it ran); "
        f"when and where: {NOT_RECORDED}.",
    ]
    return "\n".join(lines) + "\n"


def arm64() -> str:
    """The served prediction on aarch64 under qemu against x86_64 (benchmarks.arm64)."""
    doc = load(BENCHMARKS / "arm64.json")
    sets = list(doc["subset"]["full_set_sizes"])
    lines = _header(
        ["qemu CPU model", "XNNPACK", *(f"{SET_NAMES[s]}: identical masks" for s in sets),
         "Dice change (every set)"]
    )  # fmt: skip
    for cpu, run in doc["aarch64"].items():
        cells: list[object] = [f"`{cpu}`", "yes" if run["xnnpack_delegate"] else "no"]
        changes = []
        for s in sets:
            got = run["sets"].get(s)
            if got is None:
                cells.append("-")
                continue
            cells.append(f"{got['identical_masks']}/{got['n_decoded']}")
            changes.append(abs(got["dice"]["paired_mean_diff"]))
        cells.append(f"{max(changes):.4f}" if changes else "-")
        lines.append(_row(cells))
    versions = doc["aarch64"][next(iter(doc["aarch64"]))]["versions"]
    lines += [
        "",
        f"`benchmarks/arm64.json`: {doc['model']} (whole sets, or the images a row counts), "
        f"aarch64 Python "
        f"{versions['python']} with numpy {versions['numpy']}, Pillow {versions['pillow']}, "
        f"ai-edge-litert {versions['ai-edge-litert']} under {doc['machine']['qemu']}; when: "
        f"{doc['date']}; where: {doc['machine']['host_cores']} x86_64 cores. A run marked with "
        "a qemu version other than the table's is that build's.",
    ]
    return "\n".join(lines) + "\n"


TABLES: dict[str, Callable[[], str]] = {
    "results": results,
    "evaluation": evaluation,
    "hard_case_groups": hard_case_groups,
    "darker_skin": darker_skin,
    "handler": handler,
    "one_pass_speed": one_pass_speed,
    "cold_start": cold_start,
    "latency": latency,
    "memory": memory,
    "load": load_test,
    "concurrency": concurrency,
    "batch": batch,
    "model_sizes": model_sizes,
    "decoding_parity": decoding_parity,
    "logging_choice": logging_choice,
    "ladder": ladder,
    "arm64": arm64,
    **{name: partial(postprocess, name) for name in POSTPROCESS_STUDIES},
}
NAMES = sorted(TABLES)


def _edge() -> str:
    from benchmarks import edge

    return edge.table(load(edge.JSON))


def _quality_fit() -> str:
    from benchmarks.studies import quality_fit

    return quality_fit.table(load(quality_fit.REPORT))


def _quality_signals() -> str:
    from benchmarks.studies import quality_signals

    return quality_signals.table(load(quality_signals.REPORT))


def _failure_flag() -> str:
    from benchmarks.studies import failure_flag

    return failure_flag.table(load(failure_flag.REPORT))


def _look_signals() -> str:
    from benchmarks.studies import failure_flag, look_signals

    return failure_flag.table(load(look_signals.REPORT))


def _second_look(name: str) -> Callable[[], str]:
    def render() -> str:
        from benchmarks.studies import second_look

        return second_look.table(load(BENCHMARKS / name))

    return render


def _decode_scale() -> str:
    from benchmarks.studies import decode_scale

    return decode_scale.table(load(BENCHMARKS / "decode_scale.json"))


def _inference() -> str:
    from benchmarks import inference

    return inference.table(load(BENCHMARKS / "inference.json"))


def _cost() -> str:
    from benchmarks import cost

    return cost.table(load(BENCHMARKS / "cost.json"))


BLOCKS: dict[str, Callable[[], str]] = {
    "benchmarks.edge --table": _edge,
    "benchmarks.studies.quality_fit --table": _quality_fit,
    "benchmarks.studies.quality_signals --table": _quality_signals,
    "benchmarks.studies.failure_flag --table": _failure_flag,
    "benchmarks.studies.look_signals --table": _look_signals,
    "benchmarks.studies.second_look --table": _second_look("second_look.json"),
    "benchmarks.studies.second_look --table benchmarks/second_look_zoom.json": _second_look(
        "second_look_zoom.json"
    ),
    "benchmarks.studies.decode_scale --table": _decode_scale,
    "benchmarks.inference --table benchmarks/inference.json": _inference,
    "benchmarks.cost --table": _cost,
    **{f"devtools.doc_tables --table {name}": TABLES[name] for name in NAMES},
}
"""Each generated block's command (what its opening comment says) and its renderer."""

BLOCK = re.compile(r"<!-- ([\w.]+ --table(?: [\w./-]+)?) -->\n(.*?)<!-- end -->", re.S)


def documents() -> list[Path]:
    """The documents that may hold generated blocks."""
    return [ROOT / "README.md", MODELS / "MODEL_CARD.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(text: str) -> Iterator[tuple[str, str]]:
    """(command, content) of each generated block in a document."""
    for match in BLOCK.finditer(text):
        yield match.group(1), match.group(2)


def rendered(command: str) -> str:
    """A block's content as its renderer makes it: the table, ending in one newline."""
    return BLOCKS[command]().rstrip("\n") + "\n"


def refreshed(text: str) -> str:
    """The document with every generated block rendered anew."""
    return BLOCK.sub(lambda m: f"<!-- {m.group(1)} -->\n{rendered(m.group(1))}<!-- end -->", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.doc_tables", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--table", choices=NAMES, help="print one table")
    action.add_argument("--check", action="store_true", help="fail if a block is stale")
    action.add_argument("--write", action="store_true", help="rewrite every block")
    args = parser.parse_args(argv)
    if args.table:
        print(TABLES[args.table](), end="")
        return 0
    stale = []
    for path in documents():
        text = path.read_text()
        new = refreshed(text)
        if new != text:
            stale.append(path.relative_to(ROOT))
            if args.write:
                path.write_text(new)
    verb = "rewrote" if args.write else "stale"
    for path in stale:
        print(f"{verb}: {path}", file=sys.stderr)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())

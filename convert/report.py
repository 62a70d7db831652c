"""PARITY.md: the parity gate's report in a readable form."""

from __future__ import annotations

from pathlib import Path

from convert.gate_report import FlavourResult, GateReport


def _runtimes(result: FlavourResult) -> str:
    parts = []
    for name, probe in result.runtimes.items():
        if probe.loads:
            details = []
            if probe.mask_agreement is not None:
                details.append(f"{probe.mask_agreement:.2%} same mask")
            if probe.p50_ms_2_threads is not None:
                details.append(f"{probe.p50_ms_2_threads:.1f} ms at 2 threads")
            parts.append(name + (f" ({', '.join(details)})" if details else ""))
        else:
            parts.append(f"~~{name}~~ ({(probe.error or '')[:80]})")
    return ", ".join(parts)


def _with_delta(value: float, delta: float | None) -> str:
    """A score with its change against the float model, e.g. `0.8938 (-0.0002)`."""
    return f"{value:.4f} ({delta or 0.0:+.4f})"


def _header(columns: list[str]) -> list[str]:
    """A markdown table's header and rule."""
    return ["| " + " | ".join(columns) + " |", "| --- " * len(columns) + "|"]


def _per_runtime(report: GateReport, set_names: list[str]) -> list[str]:
    """The parity table: each flavour's scores in each runtime it was gated in."""
    lines = [
        "",
        "Parity per runtime (each runtime's own masks, scored like the serving runtime's; "
        "same mask: share of pixels on the same side of the threshold as the serving runtime):",
        "",
        *_header(
            [
                "flavour",
                "runtime",
                "version",
                *(f"{n} Dice (Δ) / TJ (Δ)" for n in set_names),
                "same mask",
            ]
        ),
    ]
    for flavour, r in report.flavours.items():
        for runtime, check in r.runtimes.items():
            sets = r.sets if runtime == report.serving_runtime else check.sets
            cells = [flavour, runtime, check.version or "-"]
            for name in set_names:
                s = (sets or {}).get(name)
                cells.append(
                    f"{_with_delta(s.dice, s.delta_dice)} / "
                    f"{_with_delta(s.threshold_jaccard, s.delta_threshold_jaccard)}"
                    if s
                    else "-"
                )
            if not check.loads:
                cells.append(f"does not load: {(check.error or '')[:80]}")
            elif runtime == report.serving_runtime:
                cells.append("serving")
            else:
                cells.append(f"{check.mask_agreement or 0.0:.2%}")
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_markdown(report: GateReport, path: Path) -> None:
    """Write the per-flavour table of the parity report."""
    set_names = list(report.float_keras.sets)
    lines = [
        "# TFLite parity report",
        "",
        f"Per-image mean ISIC metrics at each mask's native size, every flavour run through the "
        f"serving predictor ({report.serving_runtime}) with the shared pre/post-processing. "
        f"A flavour is refused when it does not run in every runtime gated, or on any set in any "
        f"of them its Dice drops more than {report.tolerances.dice} or its thresholded Jaccard "
        f"more than {report.tolerances.threshold_jaccard} below the float Keras model's. "
        f"Latency: one image at the model size, median of 30.",
        "",
        "| set | n | float Keras Dice | Jaccard | thresholded Jaccard |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, score in report.float_keras.sets.items():
        lines.append(
            f"| {name} | {score.n} | {score.dice:.4f} | {score.jaccard:.4f} | "
            f"{score.threshold_jaccard:.4f} |"
        )
    lines += [
        "",
        *_header(
            [
                "flavour",
                "bytes",
                "input",
                *(f"{n} Dice (Δ) / J / TJ (Δ)" for n in set_names),
                "p50 ms 1 / 2 threads",
                "loads in",
                "verdict",
            ]
        ),
    ]
    for flavour, r in report.flavours.items():
        cells = [flavour, f"{r.bytes:,}", r.input_dtype or "-"]
        for name in set_names:
            s = (r.sets or {}).get(name)
            cells.append(
                f"{_with_delta(s.dice, s.delta_dice)} / {s.jaccard:.4f} / "
                f"{_with_delta(s.threshold_jaccard, s.delta_threshold_jaccard)}"
                if s
                else "-"
            )
        latency = r.latency_ms
        cells.append(
            f"{latency['1_thread']['p50_ms']:.1f} / {latency['2_threads']['p50_ms']:.1f}"
            if latency
            else "-"
        )
        cells.append(_runtimes(r))
        cells.append("pass" if r.passed else "REFUSED: " + "; ".join(r.reasons))
        lines.append("| " + " | ".join(cells) + " |")
    lines += _per_runtime(report, set_names)
    deployed = report.deployed
    lines += [
        "",
        f"Deployed: **{deployed.flavour}** as `{deployed.file}` (sha256 `{deployed.sha256}`)."
        if deployed
        else "Deployed: nothing.",
    ]
    path.write_text("\n".join(lines) + "\n")

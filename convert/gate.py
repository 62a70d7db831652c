"""The parity gate: score every TFLite flavour through the serving predictor, refuse the
ones that lose Dice (or the ISIC ranking metric, thresholded Jaccard) against the float Keras
model, and deploy the fastest that passes.

    python -m convert.gate --data ../shared/data --split models/split.json \
        --tflite-dir build/tflite --out models

Every flavour is scored in the serving runtime and, with --also-runtime, in each other runtime
(through `convert.probe` under that runtime's interpreter) on the same images: a flavour passes
only when it runs in every runtime and loses no more Dice and thresholded Jaccard than allowed
in any of them.

Exit status: 0 when a flavour is deployed; 1 when none passes (or the one asked for with
--deploy fails, or, with --strict, any flavour fails). Each refusal names the set and numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from convert.flavours import FLAVOURS
from convert.gate_report import (
    Deployed,
    Drop,
    FlavourResult,
    FloatKeras,
    GateReport,
    RuntimeCheck,
    SetScore,
    Tolerances,
)
from isic.scoring import (
    Loaded,
    Row,
    iter_loaded,
    masks_from_probabilities,
    model_input,
    rows_of,
)
from isic.sets import standard_set_samples
from segcore.metrics import macro_average
from segcore.predictor import DEFAULT_RUNTIME, TFLitePredictor
from segcore.processing import THRESHOLD

REPORTED = ("dice", "jaccard", "threshold_jaccard")


def set_score(rows: list[Row]) -> SetScore:
    """The gate's summary of per-image metric rows."""
    summary = macro_average(rows)
    return SetScore(n=int(summary["n"]), **{name: summary[name] for name in REPORTED})


def scored_sets(
    sets: dict[str, list[Loaded]],
    probabilities: dict[str, np.ndarray],
    float_sets: dict[str, SetScore] | None = None,
) -> dict[str, SetScore]:
    """Each set's scores from its probability maps, with the changes against the float model's
    when given."""
    scores = {}
    for name, loaded in sets.items():
        score = set_score(rows_of(masks_from_probabilities(loaded, probabilities[name])))
        if float_sets is not None:
            reference = float_sets[name]
            score = score.model_copy(
                update={
                    "delta_dice": score.dice - reference.dice,
                    "delta_threshold_jaccard": score.threshold_jaccard
                    - reference.threshold_jaccard,
                }
            )
        scores[name] = score
    return scores


def probe_runtime(python: str, runtime: str, model: Path, inputs: np.ndarray) -> dict[str, Any]:
    """Run the model in another interpreter's runtime; return its outputs or the error (a
    runtime that takes over a second per image counts as not running the file)."""
    with tempfile.TemporaryDirectory() as tmp:
        in_path, out_path = Path(tmp) / "in.npy", Path(tmp) / "out.npy"
        np.save(in_path, inputs)
        root = Path(__file__).resolve().parent.parent
        command = [python, "-m", "convert.probe", str(model), str(in_path), str(out_path)]
        timeout = 60 + len(inputs)
        try:
            result = subprocess.run(
                [*command, "--runtime", runtime],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return {"loads": False, "error": f"took over {timeout} s for {len(inputs)} images"}
        if result.returncode != 0:
            last = (result.stderr.strip() or "no output").splitlines()[-1]
            try:
                error = json.loads(last)["error"]
            except (ValueError, KeyError, TypeError):
                error = last  # e.g. the interpreter could not even import the runtime
            return {"loads": False, "error": error[:300]}
        return {"loads": True, **json.loads(result.stdout), "outputs": np.load(out_path)}


def refusals(
    flavour_sets: dict[str, SetScore],
    float_sets: dict[str, SetScore],
    tolerances: Tolerances,
    runtime: str,
) -> list[str]:
    """Reasons (one per failing set and metric) why a flavour loses too much in one runtime."""
    reasons = []
    for name, result in flavour_sets.items():
        reference = float_sets[name]
        for label, ours, theirs, allowed in (
            ("Dice", result.dice, reference.dice, tolerances.dice),
            (
                "thresholded Jaccard",
                result.threshold_jaccard,
                reference.threshold_jaccard,
                tolerances.threshold_jaccard,
            ),
        ):
            if theirs - ours > allowed:
                reasons.append(
                    f"{runtime} {name}: {label} {ours:.4f} vs float {theirs:.4f} "
                    f"(drop {theirs - ours:.4f} > tolerance {allowed})"
                )
    return reasons


def check_other_runtime(
    python: str,
    runtime: str,
    path: Path,
    sets: dict[str, list[Loaded]],
    inputs: dict[str, np.ndarray],
    reference: dict[str, np.ndarray],
    float_sets: dict[str, SetScore],
) -> RuntimeCheck:
    """Run the file on every gate image in another runtime and score it there."""
    names = list(sets)
    probe = probe_runtime(python, runtime, path, np.concatenate([inputs[n] for n in names]))
    if not probe.pop("loads"):
        return RuntimeCheck(loads=False, error=probe["error"])
    outputs = np.split(probe.pop("outputs"), np.cumsum([len(sets[n]) for n in names])[:-1])
    everything = np.concatenate(outputs)
    served = np.concatenate([reference[n] for n in names])
    return RuntimeCheck(
        loads=True,
        version=probe.get("version"),
        p50_ms_2_threads=probe.get("p50_ms_2_threads"),
        max_abs_diff=float(np.max(np.abs(everything - served))),
        mask_agreement=float(np.mean((everything > THRESHOLD) == (served > THRESHOLD))),
        sets=scored_sets(sets, dict(zip(names, outputs, strict=True)), float_sets),
    )


def gate_flavour(
    path: Path,
    sets: dict[str, list[Loaded]],
    inputs: dict[str, np.ndarray],
    float_sets: dict[str, SetScore],
    tolerances: Tolerances,
    runtime: str,
    other_runtimes: dict[str, str],
) -> FlavourResult:
    """Score, time and check one .tflite file in every runtime on the sets' model inputs (the
    float model's); the result says whether it passes and why not."""
    model = path.read_bytes()
    identity = {"file": str(path), "bytes": len(model), "sha256": hashlib.sha256(model).hexdigest()}
    try:
        predictor = TFLitePredictor(model, runtime=runtime)
        size = next(iter(inputs.values())).shape[1]
        if predictor.input_size != size:
            raise ValueError(f"its input is {predictor.input_size} px, the float model's {size}")
        reference = {name: predictor.predict(batch) for name, batch in inputs.items()}
    except Exception as error:  # any failure to load or run is a refusal, not a crash
        return FlavourResult(
            **identity,
            passed=False,
            reasons=[f"does not run in {runtime}: {error}"],
            runtimes={runtime: RuntimeCheck(loads=False, error=str(error))},
        )
    print(f"[gate] scoring {path.stem} in {runtime}", flush=True)
    scores = scored_sets(sets, reference, float_sets)
    latency = {
        f"{threads}_thread{'s' if threads > 1 else ''}": TFLitePredictor(
            model, runtime=runtime, num_threads=threads
        ).latency_ms()
        for threads in (1, 2)
    }
    runtimes = {runtime: RuntimeCheck(loads=True, version=predictor.runtime.version)}
    reasons = refusals(scores, float_sets, tolerances, runtime)
    for other, python in other_runtimes.items():
        print(f"[gate] scoring {path.stem} in {other}", flush=True)
        check = check_other_runtime(python, other, path, sets, inputs, reference, float_sets)
        runtimes[other] = check
        if check.sets is None:
            reasons.append(f"does not run in {other}: {check.error}")
        else:
            reasons += refusals(check.sets, float_sets, tolerances, other)
    return FlavourResult(
        **identity,
        passed=not reasons,
        reasons=reasons,
        runtimes=runtimes,
        input_dtype=predictor.input_dtype,
        sets=scores,
        latency_ms=latency,
    )


def choose(flavours: dict[str, FlavourResult], requested: str | None) -> str | None:
    """The requested flavour if it passed, else the fastest passing one at 2 threads."""
    passing = {name: r for name, r in flavours.items() if r.passed and r.latency_ms}
    if requested:
        return requested if requested in passing else None
    if not passing:
        return None
    return min(passing, key=lambda name: _p50_at_2_threads(passing[name]))


def _p50_at_2_threads(result: FlavourResult) -> float:
    assert result.latency_ms is not None
    return result.latency_ms["2_threads"]["p50_ms"]


def tolerance(text: str) -> float:
    """An argparse type: a `Drop` (checked when parsing, before any scoring)."""
    try:
        return TypeAdapter(Drop).validate_python(float(text))
    except (ValueError, ValidationError):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}") from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m convert.gate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--keras",
        type=Path,
        default=Path("models/unet_float.keras"),
        help="the float model every flavour is compared with",
    )
    parser.add_argument(
        "--tflite-dir",
        type=Path,
        default=Path("build/tflite"),
        help="folder with unet_<flavour>.tflite files",
    )
    parser.add_argument("--flavours", nargs="+", choices=FLAVOURS, default=list(FLAVOURS))
    parser.add_argument(
        "--data", type=Path, required=True, help="folder holding isic2018/ and isic2018_fullview/"
    )
    parser.add_argument("--split", type=Path, required=True, help="the model's split.json")
    parser.add_argument(
        "--tolerance",
        type=tolerance,
        default=0.005,
        help="largest allowed drop in per-image mean Dice, absolute",
    )
    parser.add_argument(
        "--tj-tolerance",
        type=tolerance,
        default=0.02,
        help="largest allowed drop in per-image mean thresholded Jaccard, absolute (it moves "
        "in steps of 0.65/n or more as single images cross the metric's 0.65 cut)",
    )
    parser.add_argument("--runtime", default=DEFAULT_RUNTIME, help="the serving runtime")
    parser.add_argument(
        "--also-runtime",
        action="append",
        default=[],
        metavar="NAME=PYTHON",
        help="also gate in runtime NAME under interpreter PYTHON (a flavour must pass there too)",
    )
    parser.add_argument("--deploy", choices=FLAVOURS, help="deploy this flavour, not the fastest")
    parser.add_argument("--strict", action="store_true", help="fail if any flavour fails")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("models"),
        help="where unet.tflite, parity.json and PARITY.md go",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import keras

    from convert.report import write_markdown
    from isic.scoring import model_predictor

    sets = {
        name: list(iter_loaded(samples))
        for name, samples in standard_set_samples(args.data, args.split).items()
    }
    predict, size = model_predictor(keras.saving.load_model(args.keras, compile=False))
    inputs = {
        name: np.stack([model_input(sample, size) for sample, _, _ in loaded])
        for name, loaded in sets.items()
    }
    print("[gate] scoring the float Keras model", flush=True)
    float_sets = scored_sets(sets, {name: predict(batch) for name, batch in inputs.items()})
    others = dict(item.split("=", 1) for item in args.also_runtime)
    tolerances = Tolerances(dice=args.tolerance, threshold_jaccard=args.tj_tolerance)

    flavours = {}
    for flavour in args.flavours:
        path = args.tflite_dir / f"unet_{flavour}.tflite"
        flavours[flavour] = gate_flavour(
            path, sets, inputs, float_sets, tolerances, args.runtime, others
        )
        verdict = "PASSED" if flavours[flavour].passed else "REFUSED"
        print(f"[gate] {flavour}: {verdict}", *flavours[flavour].reasons, sep="\n  ")

    deployed = choose(flavours, args.deploy)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "unet.tflite"
    if deployed:
        target.write_bytes((args.tflite_dir / f"unet_{deployed}.tflite").read_bytes())
    report = GateReport(
        tolerances=tolerances,
        serving_runtime=args.runtime,
        float_keras=FloatKeras(file=str(args.keras), sets=float_sets),
        flavours=flavours,
        deployed=Deployed(
            flavour=deployed,
            file=str(target),
            sha256=flavours[deployed].sha256,
            input_size=size,
        )
        if deployed
        else None,
    )
    report.write(args.out / "parity.json")
    write_markdown(report, args.out / "PARITY.md")
    if deployed is None:
        wanted = f"requested flavour {args.deploy}" if args.deploy else "no flavour"
        print(f"[gate] FAILED: {wanted} passed parity; nothing deployed", file=sys.stderr)
        return 1
    print(f"[gate] deployed {deployed} -> {args.out / 'unet.tflite'}")
    if args.strict and not all(r.passed for r in flavours.values()):
        print("[gate] FAILED (--strict): some flavours were refused", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

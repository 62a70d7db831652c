"""Four more signals for the "needs review" flag against the six served (issue 29), under the
criteria written first (`benchmarks/studies/quality_signals_criteria.md`).

    python -m benchmarks.studies.quality_signals --data ../shared/data --split models/split.json \
        --hard-cases runs/hard --darker-skin runs/dark
    python -m benchmarks.studies.quality_signals --table   # the model card's table, from the JSON

The images, the fit, the folds and the threshold rule are quality_fit's; the candidates differ
only in their signals. Writes benchmarks/quality_signals.json.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Collection
from typing import Any

import numpy as np

from benchmarks.provenance import stamp
from benchmarks.studies.quality_fit import (
    FAILURE,
    GOAL_POOL,
    NAMES,
    Item,
    add_set_arguments,
    folds_of,
    out_of_fold,
    percent,
    pooled_items,
    report_of,
)
from segcore.components import components
from segcore.paths import REPOSITORY
from segcore.processing import THRESHOLD
from segcore.quality import SIGNALS, signals

CORE = 0.875
EXTRA = ("largest_part_share", "box_fill", "off_centre", "core_share")
REPORT = REPOSITORY / "benchmarks" / "quality_signals.json"
CRITERIA = "benchmarks/studies/quality_signals_criteria.md"


def extra_signals(probabilities: np.ndarray) -> dict[str, float]:
    """The four candidate signals of the criteria, on the model's grid (S, S)."""
    lesion = probabilities > THRESHOLD
    lesion_px = int(np.count_nonzero(lesion))
    if not lesion_px:
        return {"largest_part_share": 1.0, "box_fill": 1.0, "off_centre": 1.0, "core_share": 0.0}
    labels, _ = components(lesion)
    sizes = np.bincount(labels.ravel())[1:]
    largest = int(np.argmax(sizes)) + 1
    rows, cols = np.nonzero(labels == largest)
    box = (int(rows.max()) - int(rows.min()) + 1) * (int(cols.max()) - int(cols.min()) + 1)
    all_rows, all_cols = np.nonzero(lesion)
    centre = (lesion.shape[0] - 1) / 2
    dy = int(all_rows.sum()) / lesion_px - centre
    dx = int(all_cols.sum()) / lesion_px - centre
    return {
        "largest_part_share": int(sizes.max()) / lesion_px,
        "box_fill": int(sizes.max()) / box,
        "off_centre": float(np.sqrt(dy * dy + dx * dx)) / (centre * float(np.sqrt(2.0))),
        "core_share": int(np.count_nonzero(probabilities[lesion] > CORE)) / lesion_px,
    }


def ten_values(probabilities: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """A's six signals, then EXTRA."""
    values = {**signals(probabilities), **extra_signals(probabilities)}
    return np.asarray([values[name] for name in (*SIGNALS, *EXTRA)])


def candidate_report(items: list[Item], folds: np.ndarray) -> dict[str, Any]:
    predicted, flagged = out_of_fold(items, folds)

    def report(names: Collection[str]) -> dict[str, Any]:
        pick = np.asarray([item.set_name in names for item in items])
        return report_of(
            [i for i, c in zip(items, pick, strict=True) if c], predicted[pick], flagged[pick]
        )

    sets = dict.fromkeys(item.set_name for item in items)
    return {
        "held_out_and_hard_cases": report(GOAL_POOL),
        "by_set": {name: report({name}) for name in sets},
    }


def decision(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The criteria's four rules on the goal pool."""
    caught_more = round((b["failures_caught"] - a["failures_caught"]) * a["failures"])
    rules = {
        "catches_3_more": caught_more >= 3,
        "auroc_within_0.005": b["auroc"] >= a["auroc"] - 0.005,
        "flags_at_most_10pct": b["flagged_share"] <= 0.10,
        "error_within_0.002": b["mean_abs_error"] <= a["mean_abs_error"] + 0.002,
    }
    return {"more_failures_caught": caught_more, "rules": rules, "b_served": all(rules.values())}


def table(document: dict[str, Any]) -> str:
    """Both candidates on the goal pool and per set, and the decision, from the JSON."""
    lines = [
        "| set | failures | A: AUROC | B: AUROC | A: flagged | B: flagged "
        "| A: failures caught (95 % CI) | B: failures caught (95 % CI) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    goal = "held-out + hard cases (the criteria's pool)"
    a, b = document["A"], document["B"]
    rows = [(NAMES.get(n, n), a["by_set"][n], b["by_set"][n]) for n in a["by_set"]]
    rows.append((goal, a["held_out_and_hard_cases"], b["held_out_and_hard_cases"]))
    for name, ra, rb in rows:
        cells = [name, str(ra["failures"])]
        cells += ["-" if r["auroc"] is None else f"{r['auroc']:.3f}" for r in (ra, rb)]
        cells += [percent(r["flagged_share"]) for r in (ra, rb)]
        for r in (ra, rb):
            caught = percent(r["failures_caught"])
            if "failures_caught_ci95" in r:
                low, high = r["failures_caught_ci95"]
                caught += f" ({low:.0%}..{high:.0%})"
            cells.append(caught)
        lines.append("| " + " | ".join(cells) + " |")
    made = document["decision"]
    failed = [rule for rule, ok in made["rules"].items() if not ok]
    lines.append(
        f"\nB catches {made['more_failures_caught']:+d} failures against A; "
        + (
            "B is served."
            if made["b_served"]
            else f"A stays served (rules not met: {', '.join(failed)})."
        )
        + f" Measured {document['measured']} ({document['machine']})."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.studies.quality_signals", description=__doc__
    )
    add_set_arguments(parser)
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(REPORT.read_text())), end="")
        return 0
    items = pooled_items(parser, args, ten_values)
    folds = folds_of(items)
    only_a = [Item(i.set_name, i.group, i.dice, i.values[: len(SIGNALS)]) for i in items]
    a, b = candidate_report(only_a, folds), candidate_report(items, folds)
    document: dict[str, Any] = {
        **stamp(),
        "criteria": CRITERIA,
        "failure": f"Dice < {FAILURE}",
        "candidates": {"A": list(SIGNALS), "B": [*SIGNALS, *EXTRA]},
        "A": a,
        "B": b,
        "decision": decision(a["held_out_and_hard_cases"], b["held_out_and_hard_cases"]),
    }
    REPORT.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps({k: document[k] for k in ("decision",)}, indent=2))
    for name in ("A", "B"):
        pool = document[name]["held_out_and_hard_cases"]
        print(name, {k: pool[k] for k in ("auroc", "flagged_share", "failures_caught")})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

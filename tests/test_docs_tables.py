"""Every table of results or benchmarks in the documentation is rendered from committed JSON:
each generated block equals what its renderer makes of the JSON today, no measured figures
stand in a table outside a block unless the page says they were recorded without a JSON, and
the parity report is what convert/report.py writes from models/parity.json."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from convert.gate_report import GateReport
from convert.report import write_markdown
from devtools import doc_tables
from devtools.doc_tables import BLOCKS, ROOT, TABLES

DOCUMENTS = doc_tables.documents()
FOUND = [
    (path.relative_to(ROOT).as_posix(), command, content)
    for path in DOCUMENTS
    for command, content in doc_tables.blocks(path.read_text())
]
# Where each generated block is expected (a block that moves must move here too).
EXPECTED = {
    "README.md": ["devtools.doc_tables --table results"],
    "models/MODEL_CARD.md": [
        "devtools.doc_tables --table evaluation",
        "devtools.doc_tables --table hard_case_groups",
        "devtools.doc_tables --table darker_skin",
        "benchmarks.studies.quality_fit --table",
        "benchmarks.studies.second_look --table",
    ],
    "docs/on-device.md": ["benchmarks.edge --table"],
    "docs/deploy-aws.md": ["benchmarks.cost --table", "devtools.doc_tables --table arm64"],
    "docs/benchmarks.md": ["benchmarks.inference --table benchmarks/inference.json"],
    "docs/experiments.md": ["devtools.doc_tables --table ladder"],
}
# A number a measurement gives (a Dice, a latency, a ratio), not a price or a setting.
MEASURED = re.compile(r"(?<![$\d.,])\d\.\d{3,}\b|\b\d+(?:\.\d+)? ?ms\b|\b\d+\.\d+x\b")
RECORDED = "<!-- recorded:"
OPENING = re.compile(r"<!-- [\w.]+ --table")


@pytest.mark.parametrize(("document", "command", "content"), FOUND, ids=lambda v: str(v)[:40])
def test_every_generated_block_is_current(document: str, command: str, content: str) -> None:
    assert command in BLOCKS, f"{document}: no renderer for <!-- {command} -->"
    assert content == doc_tables.rendered(command), (
        f"{document}'s <!-- {command} --> block is stale: run "
        "`python -m devtools.doc_tables --write`"
    )


def test_the_blocks_are_where_the_documentation_needs_them() -> None:
    present = {(document, command) for document, command, _ in FOUND}
    for document, commands in EXPECTED.items():
        for command in commands:
            assert (document, command) in present, f"{document} lost <!-- {command} -->"


def test_every_table_of_this_module_is_shown_somewhere() -> None:
    shown = {command for _, command, _ in FOUND}
    unused = [name for name in TABLES if f"devtools.doc_tables --table {name}" not in shown]
    assert not unused, f"renderers no document shows: {unused}"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_says_when_and_where_it_was_measured(name: str) -> None:
    text = TABLES[name]()
    assert re.search(r"\bwhen\b|\bmeasured\b", text, re.I), f"{name} says not when it was measured"
    assert re.search(r"\bwhere\b|\bcores\b|not recorded", text, re.I), f"{name} says not where"


def _tables_outside_blocks(text: str) -> list[tuple[int, list[str], str]]:
    """(first line number, rows, the line above) of each Markdown table outside generated
    blocks and code fences."""
    found: list[tuple[int, list[str], str]] = []
    fence = block = False
    rows: list[str] = []
    above = previous = ""
    start = 0
    for number, line in enumerate([*text.splitlines(), ""], 1):
        if line.startswith("```"):
            fence = not fence
        elif OPENING.match(line):
            block = True
        elif line == "<!-- end -->":
            block = False
        if not (fence or block) and line.startswith("|"):
            if not rows:
                start, above = number, previous
            rows.append(line)
        elif rows:
            found.append((start, rows, above))
            rows = []
        if line.strip():
            previous = line
    return found


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_measured_figures_in_hand_written_tables(path: Path) -> None:
    for start, rows, above in _tables_outside_blocks(path.read_text()):
        figures = [m.group(0) for row in rows for m in MEASURED.finditer(row)]
        if figures and not above.startswith(RECORDED):
            pytest.fail(
                f"{path.relative_to(ROOT)}:{start}: a table of measured figures ({figures[:3]}) "
                "outside a generated block: render it from its JSON (devtools/doc_tables.py), "
                f"or, for a run whose JSON was never committed, say so in a `{RECORDED} ... -->` "
                "line above it"
            )


def test_the_heuristic_sees_hand_written_figures() -> None:
    text = "Intro\n\n| set | Dice |\n| --- | --- |\n| crops | 0.8938 |\n"
    assert _tables_outside_blocks(text) == [
        (3, ["| set | Dice |", "| --- | --- |", "| crops | 0.8938 |"], "Intro")
    ]
    assert MEASURED.search("| p50 | 9.6 ms |") and MEASURED.search("| 70.6x |")
    assert not MEASURED.search("| Fargate | 730 h x $0.04048 | $9.01 |")
    inside = "<!-- devtools.doc_tables --table results -->\n| a | 0.8938 |\n<!-- end -->\n"
    assert _tables_outside_blocks(inside) == []


def _mutated(path: Path, change: Any) -> Any:
    document = copy.deepcopy(json.loads(path.read_text()))
    change(document)
    return document


def test_a_changed_result_changes_the_readme_table(monkeypatch: pytest.MonkeyPatch) -> None:
    before = TABLES["results"]()
    metrics = doc_tables.MODELS / "metrics.json"
    changed = _mutated(metrics, lambda d: d["holdout_crops"].update(dice=0.5))
    real = doc_tables.load
    monkeypatch.setattr(doc_tables, "load", lambda p: changed if p == metrics else real(p))
    after = TABLES["results"]()
    assert after != before and "| 0.5000 |" in after


def test_the_readme_table_fits_the_readme() -> None:
    assert all(len(line) <= 100 for line in TABLES["results"]().splitlines())


def test_the_parity_report_is_what_the_gate_writes(tmp_path: Path) -> None:
    written = tmp_path / "PARITY.md"
    write_markdown(GateReport.read(ROOT / "models" / "parity.json"), written)
    assert (ROOT / "models" / "PARITY.md").read_text() == written.read_text(), (
        "models/PARITY.md differs from models/parity.json: rerun the gate's report "
        "(convert.report.write_markdown)"
    )


def test_check_mode_passes_on_the_committed_documents() -> None:
    assert doc_tables.main(["--check"]) == 0


def test_a_latency_run_without_a_compared_build_drops_that_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    latency = doc_tables.BENCHMARKS / "latency.json"

    def alone(document: dict[str, Any]) -> None:
        document["compared_build"] = None
        for row in document["rows"]:
            row.pop("compared_p50_ms", None)

    changed = _mutated(latency, alone)
    real = doc_tables.load
    monkeypatch.setattr(doc_tables, "load", lambda p: changed if p == latency else real(p))
    table = TABLES["latency"]()
    assert "the build compared" not in table.splitlines()[0]
    assert "not named in the JSON" in table
    assert table.splitlines()[2].count("|") == 4


def test_the_benchmarks_stamp_is_what_the_tables_read() -> None:
    from benchmarks.provenance import stamp

    when = doc_tables._when(stamp())
    assert "not recorded" not in when and " cores" in when and " UTC" in when

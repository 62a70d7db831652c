"""The model card's quality and second-look tables are the committed results, rendered by the
studies' own --table (never copied by hand)."""

from __future__ import annotations

import json
import re

import pytest

from benchmarks.process import ROOT
from benchmarks.studies import quality_fit, second_look

CARD = ROOT / "models" / "MODEL_CARD.md"
TABLES = {
    "benchmarks.studies.quality_fit": lambda: quality_fit.table(
        json.loads(quality_fit.REPORT.read_text())
    ),
    "benchmarks.studies.second_look": lambda: second_look.table(
        json.loads((ROOT / "benchmarks" / "second_look.json").read_text())
    ),
}


@pytest.mark.parametrize("study", sorted(TABLES))
def test_the_model_card_shows_the_committed_figures(study: str) -> None:
    block = re.compile(rf"<!-- {re.escape(study)} --table -->\n(.*?)<!-- end -->", re.S)
    match = block.search(CARD.read_text())
    assert match, f"MODEL_CARD.md lost its <!-- {study} --table --> block"
    assert match.group(1) == TABLES[study](), (
        f"MODEL_CARD.md's {study} table is stale: paste `python -m {study} --table`"
    )


def test_a_changed_result_makes_the_table_differ() -> None:
    document = json.loads(quality_fit.REPORT.read_text())
    document["held_out_and_hard_cases"]["auroc"] -= 0.01
    assert quality_fit.table(document) != TABLES["benchmarks.studies.quality_fit"]()

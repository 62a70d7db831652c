"""The README's on-device figures are the committed benchmark's, rendered by its own --table."""

from __future__ import annotations

import json
import re

from benchmarks.edge import JSON, table
from benchmarks.process import ROOT

BLOCK = re.compile(r"<!-- benchmarks\.edge --table -->\n(.*?)<!-- end -->", re.S)


def test_readme_shows_the_committed_edge_figures() -> None:
    match = BLOCK.search((ROOT / "README.md").read_text())
    assert match, "README.md lost its <!-- benchmarks.edge --table --> block"
    assert match.group(1) == table(json.loads(JSON.read_text())), (
        "README.md's on-device table is stale: paste `python -m benchmarks.edge --table`"
    )

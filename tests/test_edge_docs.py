"""The on-device page's figures are the committed benchmark's, rendered by its own --table."""

from __future__ import annotations

import json
import re

from benchmarks.edge import JSON, table
from benchmarks.process import ROOT

PAGE = ROOT / "docs" / "on-device.md"
BLOCK = re.compile(r"<!-- benchmarks\.edge --table -->\n(.*?)<!-- end -->", re.S)


def test_the_on_device_page_shows_the_committed_edge_figures() -> None:
    match = BLOCK.search(PAGE.read_text())
    assert match, "docs/on-device.md lost its <!-- benchmarks.edge --table --> block"
    assert match.group(1) == table(json.loads(JSON.read_text())), (
        "docs/on-device.md's table is stale: paste `python -m benchmarks.edge --table`"
        " (or run `python -m devtools.doc_tables --write`)"
    )

"""FastAPI imported with its OpenAPI document's models built when the document is first asked
for, not at import (what it saves: benchmarks/cold_start_vs_parent.json, benchmarks/cold_start.py).

`fastapi.params` imports `fastapi.openapi.models`, forty pydantic models that only
`/openapi.json` (and the pages that fetch it) uses, so `import fastapi` builds them all.
Pydantic's `defer_build` builds a model on its first use instead (three, which that module
rebuilds explicitly, are still built at import); it is set on pydantic's BaseModel for the
length of FastAPI's import only, so every other model (the API's own schemas among them) is
still built where it is defined. The document is built in FastAPI's async `/openapi.json`
route, on the event loop's one thread, so no two first uses can race.
"""

from __future__ import annotations

import importlib
import sys

from pydantic import BaseModel


def import_fastapi() -> None:
    """Import FastAPI with its OpenAPI models deferred (no effect once FastAPI is imported)."""
    if "fastapi" in sys.modules:
        return
    config = BaseModel.model_config
    previous = config.get("defer_build")
    config["defer_build"] = True
    try:
        importlib.import_module("fastapi")
    finally:
        if previous is None:
            del config["defer_build"]
        else:
            config["defer_build"] = previous

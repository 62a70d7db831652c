"""MkDocs hooks (mkdocs.yml `hooks:`): the model card, the parity report and the figures under
models/ become pages and images of the site without being copied into docs/.

In the repository the pages link to them as `../models/...` (which works on GitHub too); in the
site they live under `models/`, so those links are rewritten for the site, and the model card's
`../docs/X.md` links point at the site's own pages. Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("models/MODEL_CARD.md", "models/PARITY.md")


def _repository_files() -> list[str]:
    figures = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "models").glob("*.png"))
    return [*PAGES, *figures]


def on_files(files: Files, config: Any) -> Files:
    for path in _repository_files():
        files.append(
            File(path, str(ROOT), config["site_dir"], config["use_directory_urls"]),
        )
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri.startswith("models/"):
        return markdown.replace("](../docs/", "](../")
    return markdown.replace("](../models/", "](models/")

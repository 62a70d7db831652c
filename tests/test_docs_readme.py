"""The README stays a front page (short lines, at most 120 of them) whose quick start holds the
commands the project runs: CI runs the README's test command (.ci/run), so it must be there,
word for word. The documentation site's configuration fetches nothing and builds strictly."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"


def _commands(text: str) -> list[str]:
    """The commands of the bash blocks, without their comments."""
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]


def test_the_readme_is_short() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 120, f"README.md has {len(lines)} lines (at most 120)"
    long = [n for n, line in enumerate(lines, 1) if len(line) > 100]
    assert not long, f"README.md lines over 100 characters: {long}"


def test_the_quick_start_has_the_commands_ci_runs() -> None:
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert ci == ["make test"], f".ci/run changed: {ci}"
    commands = _commands(README.read_text())
    assert "make test" in commands and "make up" in commands, commands


def test_the_readme_says_what_it_is_not() -> None:
    text = README.read_text()
    assert "**Research use only. This is not a medical device**" in text
    assert re.search(r"!\[[^\]]+\]\(models/\w+\.png\)", text), "README.md lost its picture"
    assert "```mermaid" in text


def test_the_readme_links_exist() -> None:
    text = README.read_text()
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), f"README.md links to a missing {target}"


class _Loader(yaml.SafeLoader):
    """mkdocs.yml with its !!python/name tags read as plain strings."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: suffix)


def test_the_site_fetches_nothing_at_build_time() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_Loader)
    assert config["theme"]["font"] is False, "theme.font: false (no web fonts)"
    assert config.get("plugins", []) == ["search"], "no plugin that downloads at build time"
    assert config["strict"] is True


def test_every_page_is_in_the_navigation() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_Loader)

    def pages(nav: object) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        if isinstance(nav, dict):
            return [p for v in nav.values() for p in pages(v)]
        if isinstance(nav, list):
            return [p for v in nav for p in pages(v)]
        return []

    listed = set(pages(config["nav"]))
    on_disk = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert on_disk <= listed, f"pages not in mkdocs.yml's nav: {on_disk - listed}"


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="mkdocs-material (requirements/dev.txt) not installed")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "models" / "MODEL_CARD" / "index.html").exists()


def test_the_contributing_page_names_every_marker_and_the_fast_tier() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    markers = re.findall(r'^\s+"(\w+):', pyproject.split("markers = [")[1].split("]")[0], re.M)
    page = (ROOT / "docs" / "contributing.md").read_text()
    assert markers and all(f"| `{m}` |" in page for m in markers), markers
    fast = " and ".join(f"not {m}" for m in markers)
    assert f'-m "{fast}"' in page, f"docs/contributing.md: the fast tier is -m {fast!r}"

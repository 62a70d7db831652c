"""The layers docs/architecture.md states are the code's: no package imports a first-party
package its row does not allow, segcore imports nothing but the standard library, numpy and
Pillow, and the serving package imports no training framework."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGE = ROOT / "docs" / "architecture.md"
FIRST_PARTY = {"segcore", "isic", "train", "convert", "benchmarks", "devtools", "infra",
               "lesion_api", "lesion_ui", "scripts"}  # fmt: skip
ROW = re.compile(r"^\| `(\w+)` \| `([\w/]+)/` \| ([^|]+) \|")


def rules() -> dict[str, tuple[Path, set[str]]]:
    """Each package's folder and the first-party packages its row allows."""
    found = {}
    for line in PAGE.read_text().splitlines():
        match = ROW.match(line)
        if match:
            allowed = set(re.findall(r"`(\w+)`", match.group(3)))
            found[match.group(1)] = (ROOT / match.group(2), allowed)
    return found


def imports(folder: Path) -> Iterator[tuple[Path, str]]:
    """(file, module) of every import under a folder, at any depth of the code."""
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                yield path, node.module


def test_the_table_lists_every_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.split(".")[0] for p in pyproject["tool"]["setuptools"]["packages"]}
    assert set(rules()) == packages | {"scripts"}
    assert set(rules()) <= FIRST_PARTY


@pytest.mark.parametrize("package", sorted(rules()))
def test_imports_stay_within_the_layers(package: str) -> None:
    folder, allowed = rules()[package]
    assert folder.is_dir(), f"{folder} is not a folder"
    wrong = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for path, module in imports(folder)
        if module.split(".")[0] in FIRST_PARTY - {package} - allowed
    )
    assert not wrong, (
        f"{package} may import only {sorted(allowed) or 'nothing'} first-party: {wrong}"
    )


def test_segcore_needs_only_numpy_and_pillow() -> None:
    allowed = set(sys.stdlib_module_names) | {"numpy", "PIL", "segcore"}
    wrong = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for path, module in imports(ROOT / "segcore")
        if module.split(".")[0] not in allowed
    )
    assert not wrong, f"segcore imports more than numpy and Pillow: {wrong}"


def test_the_serving_package_imports_no_training_framework() -> None:
    banned = {"tensorflow", "keras", "jax", "matplotlib"}
    wrong = sorted(
        f"{path.relative_to(ROOT)}: {module}"
        for path, module in imports(ROOT / "lambda" / "lesion_api")
        if module.split(".")[0] in banned
    )
    assert not wrong, f"lesion_api would need more than the serving image has: {wrong}"


def test_the_ui_takes_only_the_contract_from_the_api() -> None:
    modules = {
        module
        for folder in (ROOT / "ui" / "lesion_ui", ROOT / "ui")
        for _, module in imports(folder)
        if module.startswith("lesion_api")
    }
    assert modules <= {"lesion_api.schemas"}, modules


@pytest.mark.parametrize("package", sorted(rules()))
def test_the_table_allows_nothing_unused(package: str) -> None:
    folder, allowed = rules()[package]
    used = {module.split(".")[0] for _, module in imports(folder)}
    assert allowed <= used, (
        f"{package}'s row allows {sorted(allowed - used)}, which it never imports"
    )

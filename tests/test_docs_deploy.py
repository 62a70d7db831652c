"""Every parameter (and output) of the CloudFormation templates is named in the page that
documents that template."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfn_support import load_template

ROOT = Path(__file__).parent.parent
PAGES = {
    "template.yaml": "docs/deploy-aws.md",
    "infra/ui-ecs.yaml": "docs/ui-hosting.md",
    "infra/edge-site.yaml": "docs/on-device.md",
}


@pytest.mark.parametrize(("template", "page"), sorted(PAGES.items()))
def test_every_parameter_and_output_is_documented(template: str, page: str) -> None:
    tpl = load_template(ROOT / template)
    text = (ROOT / page).read_text()
    missing = [
        name
        for section in ("Parameters", "Outputs")
        for name in tpl.get(section, {})
        if f"`{name}`" not in text
    ]
    assert not missing, f"{page} does not name {template}'s {missing}"


def test_the_documented_defaults_are_the_templates() -> None:
    tpl = load_template(ROOT / "template.yaml")
    text = (ROOT / PAGES["template.yaml"]).read_text()
    for name, parameter in tpl["Parameters"].items():
        default = str(parameter.get("Default", ""))
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))
        shown = row.split("|")[2].strip().strip("`")
        assert shown == (default or "empty"), (
            f"{name}: the page says {shown}, the template {default!r}"
        )

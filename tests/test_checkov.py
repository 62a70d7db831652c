"""checkov (pinned, in .venv-checkov) finds nothing in the templates and Dockerfiles beyond the
checks `.checkov.yaml` skips, each with its reason; and it still fails a template that is wrong."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def checkov(*args: str) -> subprocess.CompletedProcess[str]:
    if not CHECKOV.exists():
        pytest.fail("checkov not found: run `make setup` (installs it in .venv-checkov)")
    return subprocess.run(
        [str(CHECKOV), *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_the_stack_passes_checkov() -> None:
    done = checkov("--config-file", ".checkov.yaml")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "cloudformation scan results" in done.stdout and "dockerfile scan results" in done.stdout


def test_every_template_is_scanned() -> None:
    scanned = yaml.safe_load((ROOT / ".checkov.yaml").read_text())["file"]
    templates = [p.relative_to(ROOT).as_posix() for p in (ROOT / "infra").glob("*.yaml")]
    assert {"template.yaml", "infra/edge-site.yaml", *templates} <= set(scanned)


def test_every_skipped_check_says_why() -> None:
    lines = [
        line
        for line in (ROOT / ".checkov.yaml").read_text().splitlines()
        if line.strip().startswith("- CKV")
    ]
    skipped = yaml.safe_load((ROOT / ".checkov.yaml").read_text())["skip-check"]
    assert len(lines) == len(skipped) > 0
    assert all("#" in line and len(line.split("#", 1)[1].strip()) > 20 for line in lines)


def test_checkov_fails_a_public_unencrypted_bucket(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "Resources:\n"
        "  Open:\n"
        "    Type: AWS::S3::Bucket\n"
        "    Properties:\n"
        "      PublicAccessBlockConfiguration:\n"
        "        BlockPublicAcls: false\n"
    )
    done = checkov(
        "--config-file", ".checkov.yaml", "--file", str(tmp_path / "bad.yaml"),
        "--framework", "cloudformation",
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-2000:]
    assert "CKV_AWS_53" in done.stdout  # "Ensure S3 bucket has block public ACLS enabled"

"""template.yaml passes both SAM validators; the serving image installs no TensorFlow."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SAM = ROOT / ".venv-sam" / "bin" / "sam"


def sam(*args: str) -> subprocess.CompletedProcess:
    if not SAM.exists():
        pytest.fail("aws-sam-cli not found: run `make setup` (installs it in .venv-sam)")
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "AWS_ACCESS_KEY_ID": "none",
        "AWS_SECRET_ACCESS_KEY": "none",
    }
    return subprocess.run(
        [str(SAM), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env
    )


def test_sam_validate_translator() -> None:
    result = sam("validate", "--region", "us-east-1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_sam_validate_lint() -> None:
    result = sam("validate", "--lint", "--region", "us-east-1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_can_fail(tmp_path: Path) -> None:
    broken = (ROOT / "template.yaml").read_text().replace("MaxValue: 29", "MaxValue: oops")
    (tmp_path / "template.yaml").write_text(broken)
    result = sam(
        "validate", "--lint", "--region", "us-east-1", "--template", str(tmp_path / "template.yaml")
    )
    assert result.returncode != 0


def test_serving_image_has_no_tensorflow() -> None:
    serve = (ROOT / "requirements" / "serve.txt").read_text().lower()
    assert "tensorflow" not in re.sub(r"#.*", "", serve)
    dockerfile = (ROOT / "lambda" / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=public.ecr.aws/lambda/python:3.12" in dockerfile
    assert 'CMD ["app.handler.handler"]' in dockerfile
    assert "requirements/serve.txt" in dockerfile


def test_serving_code_never_imports_tensorflow() -> None:
    code = (
        "import sys, app.handler; "
        "bad = [m for m in ('tensorflow', 'keras', 'train', 'convert') if m in sys.modules]; "
        "assert not bad, bad"
    )
    env = {
        **os.environ,
        "MODEL_PATH": str(ROOT / "tests/fixtures/models/unet_tiny_int8.tflite"),
        "PYTHONPATH": f"{ROOT / 'lambda'}{os.pathsep}{ROOT}",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "lambda",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]

"""The images and the compose stack for real, when a Docker engine is available here."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def engine_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@pytest.mark.skipif(not engine_available(), reason="no running Docker engine on this machine")
def test_images_compose_stack_and_lambda_emulator() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "containers.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3000,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "UI -> http://api:8000:" in result.stdout
    assert "api-s3: ok model from s3://models/unet.tflite" in result.stdout
    assert "RIE: statusCode 200 image/png" in result.stdout

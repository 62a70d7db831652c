"""Black box: the real Lambda Runtime Interface Emulator (from the aws-sam-cli wheel) running
awslambdaric with lesion_api.handler.handler, invoked over HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from api_support import SAMPLE_JPEG, TINY_TFLITE
from devtools.emulator import invoke
from devtools.events import event, multipart
from devtools.stack import free_port

ROOT = Path(__file__).parent.parent
ARCH = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
RIE = next(
    (ROOT / ".venv-sam").glob(
        f"lib/python3.*/site-packages/samcli/local/rapid/aws-lambda-rie-{ARCH}"
    ),
    None,
)


@pytest.fixture(scope="module")
def rie_port(tmp_path_factory: pytest.TempPathFactory):
    if RIE is None:
        pytest.fail(
            "aws-lambda-rie not found: run `make setup` (installs aws-sam-cli in .venv-sam)"
        )
    port = free_port()
    env = {
        **os.environ,
        "MODEL_PATH": str(TINY_TFLITE),
    }
    log = tmp_path_factory.mktemp("rie") / "emulator.log"  # read on a failure; never a full pipe
    with (
        log.open("wb") as output,
        subprocess.Popen(
            [
                str(RIE),
                "--runtime-interface-emulator-address",
                f"127.0.0.1:{port}",
                sys.executable,
                "-m",
                "awslambdaric",
                "lesion_api.handler.handler",
            ],
            cwd=ROOT / "lambda",
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        ) as process,
    ):
        yield port
        process.terminate()
        process.wait(timeout=10)


def test_health_through_the_emulator(rie_port: int) -> None:
    reply = invoke(rie_port, event("v2", "GET", "/health"))
    assert reply["statusCode"] == 200
    assert json.loads(reply["body"])["model"]["flavour"] == "int8"


def test_segment_png_through_the_emulator(rie_port: int) -> None:
    content_type, body = multipart(SAMPLE_JPEG.read_bytes())
    reply = invoke(
        rie_port,
        event(
            "v2", "POST", "/v1/segment", body, {"content-type": content_type, "accept": "image/png"}
        ),
    )
    assert reply["statusCode"] == 200 and reply["isBase64Encoded"] is True
    assert base64.b64decode(reply["body"]).startswith(b"\x89PNG")

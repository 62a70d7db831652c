"""Black box: the real Lambda Runtime Interface Emulator (from the aws-sam-cli wheel) running
awslambdaric with lesion_api.handler.handler, invoked over HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from api_support import SAMPLE_JPEG, TINY_TFLITE
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
def rie_url():
    if RIE is None:
        pytest.fail(
            "aws-lambda-rie not found: run `make setup` (installs aws-sam-cli in .venv-sam)"
        )
    port = free_port()
    env = {
        **os.environ,
        "MODEL_PATH": str(TINY_TFLITE),
    }
    process = subprocess.Popen(
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
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


def invoke(url: str, payload: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_health_through_the_emulator(rie_url: str) -> None:
    reply = invoke(rie_url, event("v2", "GET", "/health"))
    assert reply["statusCode"] == 200
    assert json.loads(reply["body"])["model"]["flavour"] == "int8"


def test_segment_png_through_the_emulator(rie_url: str) -> None:
    content_type, body = multipart(SAMPLE_JPEG.read_bytes())
    reply = invoke(
        rie_url,
        event(
            "v2", "POST", "/v1/segment", body, {"content-type": content_type, "accept": "image/png"}
        ),
    )
    assert reply["statusCode"] == 200 and reply["isBase64Encoded"] is True
    assert base64.b64decode(reply["body"]).startswith(b"\x89PNG")

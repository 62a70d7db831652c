"""Real servers on 127.0.0.1 for the UI tests, started exactly as `make up` starts them."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.stack import ROOT, api_command, ui_command, wait_for

TINY_TFLITE = ROOT / "tests" / "fixtures" / "models" / "unet_tiny_int8.tflite"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(command: list[str], env: dict[str, str], health_url: str) -> Iterator[None]:
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(health_url, process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def api_server(model: Path = TINY_TFLITE, **settings: str) -> Iterator[str]:
    """The API on a free port, serving `model` with extra settings; yields its base URL."""
    port = free_port()
    command, env = api_command(port)
    url = f"http://127.0.0.1:{port}"
    with running(command, {**env, **settings, "MODEL_PATH": str(model)}, f"{url}/health"):
        yield url


@contextmanager
def ui_server(api_url: str) -> Iterator[str]:
    """The UI on a free port, pointed at api_url; yields its URL."""
    port = free_port()
    command, env = ui_command(port, api_url)
    url = f"http://127.0.0.1:{port}"
    with running(command, env, f"{url}/_stcore/health"):
        yield url

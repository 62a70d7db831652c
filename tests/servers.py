"""Real servers on 127.0.0.1 for the UI tests: the API (uvicorn, fixture model) and the UI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).parent.parent
TINY_TFLITE = ROOT / "tests" / "fixtures" / "models" / "unet_tiny_int8.tflite"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def serve(args: list[str], health: str, env: dict[str, str]) -> Iterator[None]:
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(health, process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def api_server(model: Path = TINY_TFLITE) -> Iterator[str]:
    """uvicorn serving app.main:app on a free port; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"MODEL_PATH": str(model), "PYTHONPATH": f"{ROOT / 'lambda'}{os.pathsep}{ROOT}"}
    with serve(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        f"{url}/health",
        env,
    ):
        yield url


@contextmanager
def ui_server(api_url: str) -> Iterator[str]:
    """streamlit serving ui/app.py on a free port, pointed at api_url; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "ui" / "app.py"),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        f"{url}/_stcore/health",
        {"API_URL": api_url},
    ):
        yield url

"""Run the local stack without Docker: the API (uvicorn, the Lambda's `lesion_api` code and the
committed model) on 127.0.0.1:8000, the Streamlit UI on 127.0.0.1:8501 and the on-device app
(build/edge, when `make edge` has built it) on 127.0.0.1:8502, until Ctrl-C.

    python -m devtools.stack [--api-port 8000] [--ui-port 8501] [--edge-port 8502]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from devtools.edge_server import SITE

ROOT = Path(__file__).resolve().parent.parent


def api_command(port: int) -> tuple[list[str], dict[str, str]]:
    """Command and environment of the API server (uvicorn, the app factory) on 127.0.0.1:port."""
    command = [
        sys.executable,
        "-m",
        "lesion_api.serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]
    return command, dict(os.environ)


def edge_command(port: int, site: Path) -> tuple[list[str], dict[str, str]]:
    """Command and environment of the on-device app's static server for `site` on 127.0.0.1:port."""
    command = [
        sys.executable,
        "-m",
        "devtools.edge_server",
        "--root",
        str(site),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    return command, dict(os.environ)


def ui_command(
    port: int, api_url: str, edge_url: str | None = None
) -> tuple[list[str], dict[str, str]]:
    """Command and environment of the Streamlit UI on 127.0.0.1:port, talking to api_url and
    linking to the on-device app at edge_url (when given)."""
    command = [
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
    ]
    edge = {"EDGE_URL": edge_url} if edge_url else {}
    return command, {**os.environ, "API_URL": api_url, **edge}


def wait_for(url: str, process: subprocess.Popen[Any] | None = None, timeout: float = 60.0) -> None:
    """Poll until the URL answers, or fail if the process (when given) exits or time runs out;
    a process whose output is piped has its last output in the error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = process.stdout.read()[-3000:] if process.stdout else ""
            args = cast(Sequence[object], process.args)  # always an argument list here
            name = " ".join(str(arg) for arg in args[1:4])
            raise RuntimeError(f"{name} exited with {process.returncode} {output}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up within {timeout:.0f} s")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running(command: list[str], env: dict[str, str], health_url: str) -> Iterator[int]:
    """Run a server quietly until the block ends; yields its pid once `health_url` answers."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(health_url, process)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def api_server(model: Path, **settings: str) -> Iterator[tuple[str, int]]:
    """The API on a free port serving `model`, with extra settings (environment variables);
    yields (base URL, pid)."""
    port = free_port()
    command, env = api_command(port)
    url = f"http://127.0.0.1:{port}"
    with running(command, {**env, **settings, "MODEL_PATH": str(model)}, f"{url}/health") as pid:
        yield url, pid


def start(
    api_port: int,
    ui_port: int,
    edge_port: int,
    processes: list[subprocess.Popen[bytes]],
    site: Path = SITE,
) -> str | None:
    """Start the API, the on-device app's server (when `site` is built), then the UI linking to
    it; each is added to `processes` as soon as it runs (so the caller can always stop it), and
    this returns once all answer: with the on-device app's URL, None when it is not built."""
    api_url = f"http://127.0.0.1:{api_port}"
    command, env = api_command(api_port)
    processes.append(subprocess.Popen(command, cwd=ROOT, env=env))
    wait_for(f"{api_url}/health", processes[-1])
    edge_url = None
    if (site / "index.html").is_file():
        edge_url = f"http://127.0.0.1:{edge_port}"
        command, env = edge_command(edge_port, site)
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env))
        wait_for(f"{edge_url}/", processes[-1])
    command, env = ui_command(ui_port, api_url, edge_url)
    processes.append(subprocess.Popen(command, cwd=ROOT, env=env))
    wait_for(f"http://127.0.0.1:{ui_port}/_stcore/health", processes[-1])
    return edge_url


def banner(api_port: int, ui_port: int, edge_url: str | None) -> str:
    """What `make up` prints once the stack answers: where each part is."""
    edge = (
        f"{edge_url}  (on-device: the images stay in the browser)"
        if edge_url
        else "not started, build/edge has no index.html: run make edge"
    )
    return (
        f"API:  http://127.0.0.1:{api_port}  (docs: /docs)\n"
        f"UI:   http://127.0.0.1:{ui_port}\n"
        f"Edge: {edge}\nCtrl-C stops them all."
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.stack", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--ui-port", type=int, default=8501)
    parser.add_argument("--edge-port", type=int, default=8502)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _interrupt)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        edge_url = start(args.api_port, args.ui_port, args.edge_port, processes)
        print(banner(args.api_port, args.ui_port, edge_url), flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        print(f"stack: {error}", file=sys.stderr)
        return 1
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())

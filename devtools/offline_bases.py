"""Offline stand-ins for the base images our Dockerfiles start from, for a machine that reaches no
image registry: a debootstrapped Debian (Python 3.11) tagged as `python:3.12-slim`, and on it the
AWS Lambda layout (tagged as `public.ecr.aws/lambda/python:3.12`, see infra/lambda-standin/).
A tag that already exists in the engine (a real base image) is never replaced. Afterwards
`docker compose up --build`, `sam build` and `sam local start-api` work as the README says.

    python -m devtools.offline_bases [--pip-ca /etc/ssl/certs/ca-certificates.crt]

--pip-ca copies a CA bundle to .docker-build/pip-ca.pem, which the Dockerfiles' build stages use
for pip (behind a TLS-inspecting proxy) and never copy into an image.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from infra.deploy import STANDIN_LABEL

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / ".docker-build"
PIP_CA = BUILD_DIR / "pip-ca.pem"
DEBIAN_IMAGE = "lesion-debian:bookworm"
PYTHON_BASE = "python:3.12-slim"
LAMBDA_BASE = "public.ecr.aws/lambda/python:3.12"
LABEL = f"{STANDIN_LABEL}=true"  # on every stand-in: infra.deploy refuses images built on one
DEBIAN_PYTHON = "3.11"  # bookworm's python3
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def docker(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", *args], check=True, **kwargs)


def has_image(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True).returncode == 0


def machine() -> str:
    return "aarch64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def build_debian(mirror: str) -> None:
    """debootstrap bookworm (python3, pip, CA certificates) and import it as DEBIAN_IMAGE."""
    if not shutil.which("debootstrap"):
        raise SystemExit("debootstrap is missing: apt-get install debootstrap")
    with tempfile.TemporaryDirectory(prefix="rootfs-") as rootfs:
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3,python3-pip,ca-certificates",
             "bookworm", rootfs, mirror],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(["umount", f"{rootfs}/proc"], capture_output=True)  # debootstrap leaves it
        root = Path(rootfs)
        # Like the python.org images: pip may install into the system Python.
        for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
            marker.unlink()
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(root / cache, ignore_errors=True)
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        docker(
            "import", "-c", f"ENV {PATH_ENV} LANG=C.UTF-8", "-c", 'CMD ["python3"]',
            "-", DEBIAN_IMAGE, stdin=tar.stdout, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        if tar.wait() != 0:
            raise SystemExit("tar of the debootstrapped root failed")


def build_python_base() -> None:
    """PYTHON_BASE: the Debian image, labelled as a stand-in."""
    dockerfile = f"FROM {DEBIAN_IMAGE}\nLABEL {LABEL}\n"
    docker(
        "build", "-q", "-t", PYTHON_BASE, "-", input=dockerfile.encode(), stdout=subprocess.DEVNULL
    )


def rie_binary() -> Path:
    arch = "arm64" if machine() == "aarch64" else "x86_64"
    found = sorted(
        (ROOT / ".venv-sam").glob(
            f"lib/python3*/site-packages/samcli/local/rapid/aws-lambda-rie-{arch}"
        )
    )
    if not found:
        raise SystemExit("the Runtime Interface Emulator comes with aws-sam-cli: run `make setup`")
    return found[0]


def build_lambda_base() -> None:
    """LAMBDA_BASE: infra/lambda-standin/ with awslambdaric + boto3 and the emulator."""
    context = BUILD_DIR / "lambda-standin"
    shutil.rmtree(context, ignore_errors=True)
    shutil.copytree(ROOT / "infra" / "lambda-standin", context)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", "--implementation", "cp", "--python-version", DEBIAN_PYTHON,
         "--platform", f"manylinux_2_17_{machine()}", "--target", str(context / "runtime"),
         "-r", str(ROOT / "requirements" / "lambda-runtime.txt")],
        check=True,
    )  # fmt: skip
    shutil.copy2(rie_binary(), context / "aws-lambda-rie")
    docker(
        "build", "-q", "--label", LABEL, "--build-arg", f"DEBIAN_IMAGE={DEBIAN_IMAGE}",
        "-t", LAMBDA_BASE, str(context), stdout=subprocess.DEVNULL,
    )  # fmt: skip


def build_bases(mirror: str) -> list[str]:
    """Build the stand-ins whose tags the engine does not have; return what was built."""
    wanted = [name for name in (PYTHON_BASE, LAMBDA_BASE) if not has_image(name)]
    if wanted and not has_image(DEBIAN_IMAGE):
        build_debian(mirror)
    if PYTHON_BASE in wanted:
        build_python_base()
    if LAMBDA_BASE in wanted:
        build_lambda_base()
    return wanted


def use_pip_ca(bundle: Path) -> None:
    """Let the images' build stages reach PyPI through a TLS-inspecting proxy."""
    BUILD_DIR.mkdir(exist_ok=True)
    if not PIP_CA.exists() or PIP_CA.read_bytes() != bundle.read_bytes():
        shutil.copyfile(bundle, PIP_CA)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", default="http://deb.debian.org/debian")
    parser.add_argument("--pip-ca", type=Path, default=None, help="CA bundle for pip in builds")
    args = parser.parse_args()
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        print("error: no Docker engine running (python -m devtools.docker_engine)", file=sys.stderr)
        return 2
    if args.pip_ca:
        use_pip_ca(args.pip_ca)
    for name in build_bases(args.mirror) or ["nothing: both base images exist"]:
        print("built", name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

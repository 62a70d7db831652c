"""Offline stand-ins for the base images our Dockerfiles start from, for a machine that reaches no
image registry: a debootstrapped Debian 12 with CPython 3.12 tagged as `python:3.12-slim`, and on
it the AWS Lambda layout (tagged as `public.ecr.aws/lambda/python:3.12`, see infra/lambda-standin/).
A tag that already exists in the engine as a real base image is never replaced; a stand-in built
for another Python (its label STANDIN_PYTHON_LABEL, absent on the old Python 3.11 ones) is rebuilt.
Afterwards `docker compose up --build`, `sam build` and `sam local start-api` work as the README
says, and the Dockerfiles pick the py3.12 locks.

    python -m devtools.offline_bases [--pip-ca /etc/ssl/certs/ca-certificates.crt]
                                     [--python /root/.pyenv/versions/3.12.1/bin/python3.12]

Where the 3.12 comes from: bookworm has no Python 3.12 and python.org is out of reach, so the
stand-ins carry a CPython 3.12 of this machine (`--python`, else `python3.12` on PATH, else the
newest pyenv 3.12.x), which must be built on Debian bookworm, as the debootstrapped root is. Its
installation is copied to /usr/local, where python:3.12-slim has its CPython: the interpreter,
libpython3.12.so (an --enable-shared build finds it through ld.so.cache: its RUNPATH, the old
prefix, no longer exists), the standard library (with its .pyc) and headers. Left out: the test
suite, IDLE, tkinter and _tkinter (no X libraries in the image), the static libpython, the -O/-OO
bytecode, the binaries' debug info (strip --strip-debug), and the source's site-packages (a host's
pip and .pth files); the old prefix baked into _sysconfigdata, the Makefile, pkg-config and
python3.12-config is rewritten to /usr/local. debootstrap --include= brings the Debian runtime
libraries its extension modules link (RUNTIME_PACKAGES, what `ldd` of lib-dynload/*.so names). Then,
in the root: ldconfig, the stdlib's .pyc compiled afresh (the copied ones name the old prefix),
`python3.12 -m ensurepip` (pip, from the wheel CPython bundles), python3/python -> python3.12, and
an import of every extension module kept, so a copy that cannot run fails here and not in a build.
No Debian python3 is installed, so no EXTERNALLY-MANAGED marker stands in pip's way (any found is
removed, as the python.org images have none). The Lambda stand-in adds /var/lang/bin/python3 (as on
AWS) and the runtime interface client + boto3 (requirements/lambda-runtime.txt), installed for 3.12.

--pip-ca copies a CA bundle to .docker-build/pip-ca.pem, which the Dockerfiles' build stages use
for pip (behind a TLS-inspecting proxy) and never copy into an image.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
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
DEBIAN_PYTHON = "3.12"  # the stand-ins' CPython: this machine's, copied in (not bookworm's 3.11)
STANDIN_PYTHON_LABEL = f"{STANDIN_LABEL}.python"  # its full version, e.g. 3.12.1
DESCRIPTION_LABEL = "org.opencontainers.image.description"
PREFIX = "/usr/local"  # where python:3.12-slim has its CPython
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The Debian libraries CPython's extension modules link (ldd lib-dynload/*.so), and what
# python:3.12-slim also carries (CA certificates, /etc/services, time zones).
RUNTIME_PACKAGES = (
    "ca-certificates", "netbase", "tzdata", "libbz2-1.0", "libcrypt1", "libffi8", "liblzma5",
    "libncursesw6", "libnsl2", "libreadline8", "libsqlite3-0", "libssl3", "libtinfo6",
    "libtirpc3", "libuuid1", "zlib1g",
)  # fmt: skip
# Not in an image, relative to lib/python3.X: tests (and the test suite's extension modules),
# IDLE and Tk (no X libraries), the static libpython, the bytecode for -O/-OO (the plain .pyc
# stay), and whatever the source installation has in site-packages.
PRUNE = ("test", "idlelib", "tkinter", "turtledemo", "lib-dynload/_tkinter.*",
         "lib-dynload/_test*", "lib-dynload/_ctypes_test.*", "lib-dynload/xx*",
         "config-*/libpython*.a", "**/__pycache__/*.opt-[12].pyc", "site-packages/*")  # fmt: skip
# Extension modules the stand-in's interpreter must import (each links a Debian library).
SMOKE_IMPORTS = ("ssl", "hashlib", "sqlite3", "ctypes", "lzma", "bz2", "zlib", "uuid", "readline",
                 "curses", "decimal", "zoneinfo", "pip")  # fmt: skip


def docker(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", *args], check=True, **kwargs)


def has_image(name: str) -> bool:
    return image_labels(name) is not None


def image_labels(name: str) -> dict[str, str] | None:
    """The image's labels ({} for none), or None where the engine has no such image."""
    found = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{json .Config.Labels}}", name],
        capture_output=True, text=True,
    )  # fmt: skip
    if found.returncode != 0:
        return None
    return json.loads(found.stdout) or {}


def needs_build(name: str) -> bool:
    """Missing, or a stand-in for another Python; never a real base image (no stand-in label)."""
    labels = image_labels(name)
    if labels is None:
        return True
    if name != DEBIAN_IMAGE and STANDIN_LABEL not in labels:
        return False
    return not labels.get(STANDIN_PYTHON_LABEL, "").startswith(DEBIAN_PYTHON + ".")


def machine() -> str:
    return "aarch64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


@dataclass(frozen=True)
class SourcePython:
    """An installed CPython DEBIAN_PYTHON of this machine, to copy into the stand-in."""

    prefix: Path  # its sys.base_prefix
    version: str  # e.g. 3.12.1
    shared: bool  # built with --enable-shared


def _version_key(version: str) -> list[int]:
    return [int(n) if n.isdigit() else -1 for n in version.split(".")]


_QUERY = (
    "import json, platform, sys, sysconfig; print(json.dumps({'impl': sys.implementation.name,"
    " 'version': platform.python_version(), 'prefix': sys.base_prefix,"
    " 'shared': bool(sysconfig.get_config_var('Py_ENABLE_SHARED'))}))"
)


def source_python(explicit: Path | None = None) -> SourcePython:
    """`explicit`, else python3.X on PATH, else the newest pyenv 3.X.y (X: DEBIAN_PYTHON)."""
    exe = f"python{DEBIAN_PYTHON}"
    if explicit is not None:
        candidates = [str(explicit)]
    else:
        pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
        found = pyenv.glob(f"versions/{DEBIAN_PYTHON}.*/bin/{exe}")
        newest = sorted(found, key=lambda p: _version_key(p.parent.parent.name), reverse=True)
        candidates = [c for c in [shutil.which(exe), *map(str, newest)] if c]
    for candidate in candidates:
        done = subprocess.run([candidate, "-c", _QUERY], capture_output=True, text=True)
        if done.returncode != 0:
            continue
        info = json.loads(done.stdout)
        prefix = Path(info["prefix"])
        if (
            info["impl"] == "cpython"
            and info["version"].startswith(DEBIAN_PYTHON + ".")
            and (prefix / "bin" / exe).is_file()
            and (prefix / "lib" / exe / "os.py").is_file()
        ):
            return SourcePython(prefix, info["version"], info["shared"])
    raise SystemExit(
        f"no CPython {DEBIAN_PYTHON} installation found ({', '.join(candidates) or 'none'}): "
        f"pass --python, e.g. `pyenv install {DEBIAN_PYTHON}`"
    )


def _prune(stdlib: Path) -> None:
    for pattern in PRUNE:
        for path in stdlib.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()


def install_python(root: Path, source: SourcePython) -> None:
    """Copy `source` into the root's PREFIX, relocated; give it pip; check that it runs."""
    lib, old = f"python{DEBIAN_PYTHON}", str(source.prefix)
    dest = root / PREFIX.lstrip("/")
    (dest / "bin").mkdir(parents=True, exist_ok=True)
    (dest / "lib").mkdir(parents=True, exist_ok=True)
    shutil.copy2(source.prefix / "bin" / lib, dest / "bin" / lib)
    shutil.copytree(source.prefix / "lib" / lib, dest / "lib" / lib, symlinks=True)
    _prune(dest / "lib" / lib)
    for shared in source.prefix.glob("lib/libpython3*.so*"):
        shutil.copy2(shared, dest / "lib" / shared.name, follow_symlinks=False)
    if shutil.which("strip"):  # their debug info: some 40 MB
        binaries = [dest / "bin" / lib, *dest.glob("lib/libpython3*.so*"),
                    *dest.glob(f"lib/{lib}/lib-dynload/*.so")]  # fmt: skip
        files = [str(path) for path in binaries if path.is_file() and not path.is_symlink()]
        subprocess.run(["strip", "--strip-debug", *files], check=True)
    if (source.prefix / "include" / lib).is_dir():
        shutil.copytree(source.prefix / "include" / lib, dest / "include" / lib)
    # The old prefix, where it is baked in as text: rewritten (compiled copies dropped).
    baked = [*dest.glob(f"lib/{lib}/_sysconfigdata_*.py"), *dest.glob(f"lib/{lib}/config-*/*")]
    for pc in source.prefix.glob("lib/pkgconfig/python*.pc"):
        (dest / "lib" / "pkgconfig").mkdir(exist_ok=True)
        baked.append(Path(shutil.copy2(pc, dest / "lib" / "pkgconfig" / pc.name)))
    if (source.prefix / "bin" / f"{lib}-config").is_file():
        baked.append(Path(shutil.copy2(source.prefix / "bin" / f"{lib}-config", dest / "bin")))
    for path in baked:
        if path.is_file() and not path.is_symlink():
            try:
                text = path.read_text()
            except UnicodeDecodeError:
                continue
            if old in text:
                stat = path.stat()
                path.write_text(text.replace(old, PREFIX))
                os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    for pyc in dest.glob(f"lib/{lib}/__pycache__/_sysconfigdata_*.pyc"):
        pyc.unlink()
    links = {"python3": lib, "python": "python3", "python3-config": f"{lib}-config"}
    for name, target in links.items():
        if (dest / "bin" / target).exists():
            (dest / "bin" / name).symlink_to(target)
    for marker in [*root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"),
                   *dest.glob("lib/python3*/EXTERNALLY-MANAGED")]:  # fmt: skip
        marker.unlink()

    def chroot(*command: str) -> None:
        done = subprocess.run(
            ["chroot", str(root), *command], capture_output=True, text=True,
            env={"PATH": PATH_ENV.split("=", 1)[1], "LANG": "C.UTF-8", "HOME": "/root"},
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(
                f"in the stand-in root, {' '.join(command)} failed:\n{done.stdout}{done.stderr}"
            )

    chroot("/sbin/ldconfig")
    # The copied .pyc name the old prefix as their source path: compile them afresh in place.
    chroot(f"{PREFIX}/bin/{lib}", "-m", "compileall", "-q", "-f", "-j", "0", f"{PREFIX}/lib/{lib}")
    chroot(f"{PREFIX}/bin/{lib}", "-m", "ensurepip", "--default-pip")
    shutil.rmtree(root / "root" / ".cache", ignore_errors=True)
    chroot(
        "python3", "-c",
        f"import sys, {', '.join(SMOKE_IMPORTS)}; "
        f"assert sys.prefix == {PREFIX!r}, sys.prefix; "
        f"assert sys.version.split()[0] == {source.version!r}, sys.version; "
        "import zoneinfo; zoneinfo.ZoneInfo('Europe/Berlin'); "
        "ssl.create_default_context().load_default_certs()",
    )  # fmt: skip


def build_debian(mirror: str, source: SourcePython) -> None:
    """debootstrap bookworm with the runtime libraries, copy `source` in (install_python) and
    import the root as DEBIAN_IMAGE."""
    if not shutil.which("debootstrap"):
        raise SystemExit("debootstrap is missing: apt-get install debootstrap")
    with tempfile.TemporaryDirectory(prefix="rootfs-") as rootfs:
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(RUNTIME_PACKAGES)}",
             "bookworm", rootfs, mirror],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(["umount", f"{rootfs}/proc"], capture_output=True)  # debootstrap leaves it
        root = Path(rootfs)
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(root / cache, ignore_errors=True)
        install_python(root, source)
        labels = {
            STANDIN_PYTHON_LABEL: source.version,
            DESCRIPTION_LABEL: f"Debian 12 (debootstrap) with CPython {source.version} in "
            f"{PREFIX}, copied from this machine's {source.prefix}",
        }
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        docker(
            "import", "-c", f"ENV {PATH_ENV} LANG=C.UTF-8 PYTHON_VERSION={source.version}",
            "-c", "LABEL " + " ".join(f"{k}={json.dumps(v)}" for k, v in labels.items()),
            "-c", 'CMD ["python3"]', "-", DEBIAN_IMAGE, stdin=tar.stdout, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        if tar.wait() != 0:
            raise SystemExit("tar of the debootstrapped root failed")


def debian_python() -> str:
    """The full CPython version DEBIAN_IMAGE carries (its label)."""
    return (image_labels(DEBIAN_IMAGE) or {})[STANDIN_PYTHON_LABEL]


def build_python_base() -> None:
    """PYTHON_BASE: the Debian image, labelled as a stand-in."""
    description = (
        f"offline stand-in for {PYTHON_BASE}: Debian 12 with CPython {debian_python()} "
        "(devtools/offline_bases.py)"
    )
    labels = f"{LABEL} {DESCRIPTION_LABEL}={json.dumps(description)}"
    dockerfile = f"FROM {DEBIAN_IMAGE}\nLABEL {labels}\n"
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
    """LAMBDA_BASE: infra/lambda-standin/ with awslambdaric + boto3 (for DEBIAN_PYTHON) and the
    emulator."""
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
    description = (
        f"offline stand-in for {LAMBDA_BASE}: Debian 12 with CPython {debian_python()}, "
        "awslambdaric, boto3 and the Runtime Interface Emulator (devtools/offline_bases.py)"
    )
    docker(
        "build", "-q", "--label", LABEL, "--label", f"{DESCRIPTION_LABEL}={description}",
        "--build-arg", f"DEBIAN_IMAGE={DEBIAN_IMAGE}",
        "-t", LAMBDA_BASE, str(context), stdout=subprocess.DEVNULL,
    )  # fmt: skip


def build_bases(mirror: str, python: Path | None = None) -> list[str]:
    """Build the stand-ins whose tags the engine lacks or has for another Python (never over a
    real base image); return what was built."""
    wanted = [name for name in (PYTHON_BASE, LAMBDA_BASE) if needs_build(name)]
    if wanted and needs_build(DEBIAN_IMAGE):
        build_debian(mirror, source_python(python))
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
    parser.add_argument(
        "--python", type=Path, default=None,
        help=f"the CPython {DEBIAN_PYTHON} (built on Debian bookworm) to copy into the stand-ins",
    )  # fmt: skip
    args = parser.parse_args()
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        print("error: no Docker engine running (python -m devtools.docker_engine)", file=sys.stderr)
        return 2
    if args.pip_ca:
        use_pip_ca(args.pip_ca)
    for name in build_bases(args.mirror, args.python) or ["nothing: both base images exist"]:
        print("built", name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The images' lock files (requirements/locks/, `python -m devtools.locks`) are current with their
inputs, complete and hashed, for both images on both machines; the Dockerfiles install the lock
of their Python and machine with --require-hashes --no-deps; and the staleness check can fail.
Offline and fast: nothing here reaches PyPI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools import locks

ROOT = Path(__file__).parent.parent
DOCKERFILES = {image: dockerfile for image, (dockerfile, _, _) in locks.IMAGES.items()}


def lock_text(lock: locks.Lock) -> str:
    return (ROOT / lock.name).read_text()


def test_every_lock_is_current_with_its_inputs() -> None:
    assert locks.check() == [], "run `python -m devtools.locks` (make locks)"


def test_the_check_command_says_so() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "devtools.locks", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "current" in done.stdout


def test_both_images_on_both_machines_for_the_images_python() -> None:
    names = {lock.name for lock in locks.LOCKS}
    for image in ("serve", "ui"):
        for machine in ("x86_64", "aarch64"):
            assert f"requirements/locks/{image}-py3.12-{machine}.txt" in names
    for name in names:
        assert (ROOT / name).is_file(), name
    # What each lock was generated for, as its header says.
    for lock in locks.LOCKS:
        first = lock_text(lock).splitlines()[0]
        assert f"Python {lock.python}, {lock.machine}-manylinux_" in first, first


def test_every_entry_is_pinned_and_hashed() -> None:
    for lock in locks.LOCKS:
        entries = locks.entries(lock_text(lock))
        assert len(entries) > 10, lock.name
        for entry in entries:
            assert re.match(r"^[a-z0-9][a-z0-9.-]*==\S+ ", entry), (lock.name, entry[:60])
            hashes = re.findall(r"--hash=sha256:([0-9a-f]*)", entry)
            assert hashes and all(len(h) == 64 for h in hashes), (lock.name, entry[:60])
            assert len(entry.split()) == 1 + len(hashes), (lock.name, entry[:60])


def test_the_locks_pin_what_the_tests_run() -> None:
    """The constraints (the tested environment's versions) decide every version they name."""
    constraints = locks.pins((ROOT / locks.CONSTRAINTS).read_text())
    for lock in locks.LOCKS:
        locked = locks.pins(lock_text(lock))
        assert {"numpy", "pillow", "pydantic"} <= set(locked), lock.name
        for package, version in locked.items():
            if package in constraints:
                assert version == constraints[package], (lock.name, package)
    serve = locks.pins(lock_text(locks.Lock("serve", "3.12", "x86_64")))
    assert {"ai-edge-litert", "fastapi", "mangum"} <= set(serve)
    # Never TensorFlow in the serving image; boto3 and awslambdaric come with the Lambda base.
    assert not {"tensorflow", "tensorflow-cpu", "keras", "boto3", "awslambdaric"} & set(serve)
    assert "streamlit" in locks.pins(lock_text(locks.Lock("ui", "3.12", "aarch64")))


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The lock inputs, the locks and dev.txt in a temporary repository layout."""
    for rel in ["requirements/dev.txt", *(lock.name for lock in locks.LOCKS)] + [
        rel for lock in locks.LOCKS for rel in locks.inputs(lock)
    ]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, tmp_path / rel)
    assert locks.check(tmp_path) == []
    return tmp_path


def test_editing_an_input_makes_its_locks_stale(copy: Path) -> None:
    ui = copy / "requirements" / "ui.txt"
    ui.write_text(ui.read_text() + "# a comment is a change too\n")
    stale = locks.check(copy)
    assert stale and all(problem.startswith("requirements/locks/ui-") for problem in stale)
    assert "requirements/ui.txt changed" in stale[0]
    assert len({problem.split(":")[0] for problem in stale}) == len(locks.MACHINES)


def test_a_lock_whose_pin_disagrees_with_its_input_is_stale(copy: Path) -> None:
    lock = copy / locks.Lock("serve", "3.12", "aarch64").name
    lock.write_text(lock.read_text().replace("\nnumpy==2.4.6 ", "\nnumpy==2.4.5 "))
    stale = locks.check(copy)
    assert any("numpy==2.4.5, requirements/serve.txt pins 2.4.6" in p for p in stale), stale
    # A requirement pinned in the input but left out of the lock, and an entry without hashes.
    text = lock.read_text()
    entry = re.search(r"\nmangum==[^\n]*(\n    --hash[^\n]*)*", text)
    assert entry is not None
    lock.write_text(text.replace(entry.group(0), "\nextra==1.0"))
    stale = locks.check(copy)
    assert any("mangum (requirements/serve.txt) is not in the lock" in p for p in stale), stale
    assert any("no --hash=sha256: for extra==1.0" in p for p in stale), stale


def test_a_missing_or_stray_lock_is_reported(copy: Path) -> None:
    (copy / locks.Lock("ui", "3.12", "aarch64").name).unlink()
    shutil.copyfile(
        copy / locks.Lock("ui", "3.12", "x86_64").name, copy / "requirements/locks/ui-old.txt"
    )
    assert locks.check(copy) == [
        "requirements/locks/ui-py3.12-aarch64.txt: missing",
        "requirements/locks/ui-old.txt: generated for no image (remove it)",
    ]


def test_a_new_uv_pin_makes_every_lock_stale(copy: Path) -> None:
    dev = copy / "requirements" / "dev.txt"
    dev.write_text(re.sub(r"\nuv==\S+", "\nuv==0.0.1", dev.read_text()))
    assert len(locks.check(copy)) == len(locks.LOCKS)


# --- the Dockerfiles ---------------------------------------------------------------------------


def instructions(dockerfile: str) -> list[str]:
    text = (ROOT / dockerfile).read_text().replace("\\\n", " ")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def sent_to_the_build(path: str) -> bool:
    """Whether .dockerignore sends `path`: its rules are `*`, then `!path` or `!folder/`."""
    rules = (ROOT / ".dockerignore").read_text().splitlines()
    kept = [rule[1:] for rule in rules if rule.startswith("!")]
    return any(path == rule.rstrip("/") or path.startswith(rule) for rule in kept if rule)


def pip_install(image: str, python: str, machine: str, build: Path) -> tuple[int, str, str]:
    """Run the deps stage's COPY and pip RUN of `image`'s Dockerfile with /tmp/build at `build`,
    `python3` reporting `python` and `uname -m` reporting `machine`, pip stubbed: the exit status,
    the pip arguments, stderr."""
    lines = instructions(DOCKERFILES[image])
    copy = next(line.split() for line in lines if line.startswith("COPY requirements/locks/"))
    assert copy[-1] == "/tmp/build/"
    for pattern in copy[1:-1]:
        for source in ROOT.glob(pattern):
            shutil.copyfile(source, build / source.name)
    run = next(line for line in lines if line.startswith("RUN ") and "pip install" in line)
    stubs = build / "bin"
    stubs.mkdir(exist_ok=True)
    (stubs / "python3").write_text(
        f'#!/bin/sh\nif [ "$1" = -c ]; then echo {python}; else echo "$@" > "{build}/pip"; fi\n'
    )
    (stubs / "uname").write_text(f"#!/bin/sh\necho {machine}\n")
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    done = subprocess.run(
        ["sh", "-c", run.removeprefix("RUN ").replace("/tmp/build/", f"{build}/")],
        env={**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    args = (build / "pip").read_text() if (build / "pip").exists() else ""
    return done.returncode, args, done.stderr


@pytest.mark.parametrize("image", ["serve", "ui"])
def test_the_dockerfile_installs_the_lock_of_its_python_and_machine(
    image: str, tmp_path: Path
) -> None:
    text = (ROOT / DOCKERFILES[image]).read_text()
    assert "--require-hashes" in text and "--no-deps" in text
    assert f"requirements/{image}.txt" not in re.sub(r"#.*", "", text)  # the lock, never unlocked
    for lock in (lock for lock in locks.LOCKS if lock.image == image):
        assert sent_to_the_build(lock.name), lock.name
        build = tmp_path / f"{lock.python}-{lock.machine}"
        build.mkdir()
        status, args, stderr = pip_install(image, lock.python, lock.machine, build)
        assert status == 0, stderr
        words = args.split()
        assert words[:2] == ["-m", "pip"] and "install" in words, args
        assert {"--require-hashes", "--no-deps"} <= set(words), args
        assert words[words.index("-r") + 1] == f"{build}/{Path(lock.name).name}", args
        assert (build / Path(lock.name).name).read_text() == lock_text(lock)


@pytest.mark.parametrize("image", ["serve", "ui"])
def test_the_dockerfile_refuses_a_python_without_a_lock(image: str, tmp_path: Path) -> None:
    status, args, stderr = pip_install(image, "3.13", "x86_64", tmp_path)
    assert status != 0 and args == ""
    assert f"no lock {tmp_path}/{image}-py3.13-x86_64.txt" in stderr

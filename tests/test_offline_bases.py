"""devtools/offline_bases.py without an engine: which stand-ins it (re)builds, which CPython it
copies in, and what of that installation it leaves out."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from devtools import offline_bases as ob

STANDIN = {ob.STANDIN_LABEL: "true"}
CURRENT = {**STANDIN, ob.STANDIN_PYTHON_LABEL: f"{ob.DEBIAN_PYTHON}.1"}


def engine_with(monkeypatch: pytest.MonkeyPatch, images: dict[str, dict[str, str]]) -> None:
    monkeypatch.setattr(ob, "image_labels", lambda name: images.get(name))


def test_the_standins_are_python_3_12() -> None:
    assert ob.DEBIAN_PYTHON == "3.12"
    assert ob.PYTHON_BASE.split(":")[1].startswith(ob.DEBIAN_PYTHON)
    assert ob.LAMBDA_BASE.endswith(":" + ob.DEBIAN_PYTHON)


@pytest.mark.parametrize(
    ("labels", "rebuild"),
    [
        (None, True),  # missing
        ({}, False),  # a real base image, pulled: never replaced
        ({"maintainer": "someone"}, False),
        (STANDIN, True),  # an old stand-in (Debian's Python 3.11, no Python label)
        ({**STANDIN, ob.STANDIN_PYTHON_LABEL: "3.11.2"}, True),
        (CURRENT, False),
    ],
)
def test_needs_build(monkeypatch: pytest.MonkeyPatch, labels, rebuild: bool) -> None:
    images = {} if labels is None else {ob.PYTHON_BASE: labels}
    engine_with(monkeypatch, images)
    assert ob.needs_build(ob.PYTHON_BASE) is rebuild


def test_an_old_debian_image_is_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    engine_with(monkeypatch, {ob.DEBIAN_IMAGE: {}})
    assert ob.needs_build(ob.DEBIAN_IMAGE)
    engine_with(monkeypatch, {ob.DEBIAN_IMAGE: {ob.STANDIN_PYTHON_LABEL: "3.12.1"}})
    assert not ob.needs_build(ob.DEBIAN_IMAGE)


def test_build_bases_rebuilds_old_standins_and_keeps_real_bases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    engine_with(monkeypatch, {ob.PYTHON_BASE: {}, ob.LAMBDA_BASE: STANDIN, ob.DEBIAN_IMAGE: {}})
    source = ob.SourcePython(Path("/opt/py"), "3.12.1", True)
    monkeypatch.setattr(ob, "source_python", lambda explicit=None: source)
    monkeypatch.setattr(ob, "build_debian", lambda mirror, src: calls.append(f"debian {src}"))
    monkeypatch.setattr(ob, "build_python_base", lambda: calls.append("python"))
    monkeypatch.setattr(ob, "build_lambda_base", lambda: calls.append("lambda"))
    assert ob.build_bases("http://mirror") == [ob.LAMBDA_BASE]
    assert calls == [f"debian {source}", "lambda"]
    calls.clear()
    engine_with(monkeypatch, {ob.PYTHON_BASE: CURRENT, ob.LAMBDA_BASE: CURRENT})
    assert ob.build_bases("http://mirror") == [] and calls == []


def test_prune_leaves_out_tests_tk_and_the_hosts_site_packages(tmp_path: Path) -> None:
    stdlib = tmp_path / "lib" / "python3.12"
    keep = ["os.py", "json/__init__.py", "json/__pycache__/__init__.cpython-312.pyc",
            "lib-dynload/_ssl.cpython-312-x86_64-linux-gnu.so",
            "config-3.12-x86_64-linux-gnu/Makefile"]  # fmt: skip
    drop = ["test/test_os.py", "idlelib/idle.py", "tkinter/__init__.py",
            "lib-dynload/_tkinter.cpython-312-x86_64-linux-gnu.so",
            "lib-dynload/_testcapi.cpython-312-x86_64-linux-gnu.so",
            "json/__pycache__/__init__.cpython-312.opt-1.pyc",
            "config-3.12-x86_64-linux-gnu/libpython3.12.a",
            "site-packages/pip/__init__.py", "site-packages/_sandbox_ca.pth"]  # fmt: skip
    for name in keep + drop:
        (stdlib / name).parent.mkdir(parents=True, exist_ok=True)
        (stdlib / name).write_text("")
    ob._prune(stdlib)
    assert [name for name in keep if not (stdlib / name).exists()] == []
    assert [name for name in drop if (stdlib / name).exists()] == []
    assert list((stdlib / "site-packages").iterdir()) == []


def test_source_python_finds_a_cpython_3_12(monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.version_info[:2] == (3, 12):
        explicit = Path(sys.executable)
    else:
        try:
            found = ob.source_python()
        except SystemExit:
            pytest.skip("no CPython 3.12 on this machine")
        explicit = found.prefix / "bin" / "python3.12"
    source = ob.source_python(explicit)
    assert source.version.startswith("3.12.")
    assert (source.prefix / "lib" / "python3.12" / "os.py").is_file()


def test_source_python_refuses_another_version(tmp_path: Path) -> None:
    if sys.version_info[:2] == (3, 12):
        pytest.skip("this interpreter is a 3.12")
    with pytest.raises(SystemExit, match=r"no CPython 3\.12"):
        ob.source_python(Path(sys.executable))

"""What a GPU run sends back (scripts/gpu_run.sh) becomes a run folder again (gpu_unpack)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from scripts.gpu_unpack import unpack


def _sent_back(tmp_path: Path, name: str, model: bytes, pieces: int) -> Path:
    run = tmp_path / "gpu" / name
    run.mkdir(parents=True)
    (run / "metrics.json").write_text('{"holdout_at_model_size": {"dice": 0.9}}')
    files = tmp_path / "out"
    files.mkdir()
    with tarfile.open(files / f"{name}.tar", "w") as archive:
        archive.add(run, arcname=name)
    if pieces == 1:
        (files / f"{name}.keras").write_bytes(model)
        return files
    step = -(-len(model) // pieces)
    for i in range(pieces):  # named as split(1) names them: part-aa, part-ab, ...
        (files / f"{name}.keras.part-a{chr(97 + i)}").write_bytes(model[i * step : (i + 1) * step])
    return files


@pytest.mark.parametrize("pieces", [1, 3])
def test_the_run_folder_and_its_model_come_back_whole(tmp_path: Path, pieces: int) -> None:
    model = bytes(range(256)) * 1000
    files = _sent_back(tmp_path, "b32_192", model, pieces)
    run = unpack(files, "b32_192", tmp_path / "runs")
    assert (run / "unet_float.keras").read_bytes() == model
    assert "0.9" in (run / "metrics.json").read_text()


def test_a_run_whose_model_did_not_come_back_is_an_error(tmp_path: Path) -> None:
    files = _sent_back(tmp_path, "b32_128", b"", pieces=1)
    (files / "b32_128.keras").unlink()
    with pytest.raises(FileNotFoundError, match="no model came back for b32_128"):
        unpack(files, "b32_128", tmp_path / "runs")

"""The training pipeline without the dataset: augmentation keeps image and mask aligned, batches
are reproducible, and a tiny run trains, scores and resumes under TensorFlow and under JAX."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cli_support import run_module
from isic.data import find_samples
from train.augment import AugmentConfig, augment_pair, colour_jitter
from train.batches import AugmentedBatches
from train.cli import augment_config, parse_args
from train.model import build_unet
from train.pack import write_pack
from train.schedule import cosine_rate

ROOT = Path(__file__).parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
TINY_TFLITE = FIXTURES / "models" / "unet_tiny_int8.tflite"
# Geometry and colour only, or hard cases without drawn distractors (they may cover the shape).
PLAIN = AugmentConfig(hard_fraction=0.0, dark_skin_probability=0.0)
HARD = AugmentConfig(
    hard_fraction=1.0,
    lesion_fraction=(0.05, 0.12),
    faint_probability=0.0,
    distractor_probability=0.0,
    dark_skin_probability=0.0,
)


def _shape_pair(size: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A bright, asymmetric, off-centre shape on darker skin; the mask is exactly the shape."""
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    draw.polygon([(30, 40), (120, 55), (95, 80), (50, 130)], fill=255)
    draw.rectangle([100, 100, 130, 115], fill=255)
    mask_array = np.asarray(mask)
    image = np.where(mask_array[..., None] > 0, (235, 225, 215), (70, 50, 45)).astype(np.uint8)
    return image, mask_array


def _iou(image: np.ndarray, mask: np.ndarray) -> float:
    """IoU of the image's bright pixels (above the midpoint of its two colours) with the mask."""
    grey = image.mean(axis=2)
    bright = grey > (grey[mask[..., 0] > 0].mean() + grey[mask[..., 0] == 0].mean()) / 2
    lesion = mask[..., 0] > 0
    return float((bright & lesion).sum() / max((bright | lesion).sum(), 1))


@pytest.mark.parametrize("config", [PLAIN, HARD], ids=["plain", "hard_case"])
def test_augmentation_keeps_image_and_mask_aligned(config: AugmentConfig) -> None:
    image, mask = _shape_pair()
    for seed in range(40):
        out, out_mask = augment_pair(image, mask, 96, config, np.random.default_rng(seed))
        assert out.shape == (96, 96, 3) and out.dtype == np.float32
        assert out_mask.shape == (96, 96, 1) and set(np.unique(out_mask)) <= {0.0, 1.0}
        if out_mask.sum() < 30:  # zoomed in off the shape: nothing to compare
            continue
        aligned = _iou(out, out_mask)
        assert aligned > 0.8, f"seed {seed}: image and mask drifted apart (IoU {aligned:.2f})"
        # The measure can fail: a mask two pixels off scores lower.
        shifted = np.roll(out_mask, (2, 2), axis=(0, 1))
        assert _iou(out, shifted) < aligned


def test_darker_skin_darkens_by_its_gamma_or_not_at_all() -> None:
    skin = np.full((8, 8, 3), 190, np.uint8)

    def jittered(config: AugmentConfig) -> float:
        return float(colour_jitter(skin, config, np.random.default_rng(7)).mean())

    never = jittered(AugmentConfig(dark_skin_probability=0.0))
    mild = jittered(AugmentConfig(dark_skin_probability=1.0, dark_skin_gamma=(1.3, 1.3)))
    strong = jittered(AugmentConfig(dark_skin_probability=1.0, dark_skin_gamma=(3.0, 3.0)))
    assert strong < mild < never


def test_the_command_line_sets_the_augmentation() -> None:
    base = ["--pack", "p.npz", "--holdout-pack", "h.npz", "--run", "r"]
    default = augment_config(parse_args(base))
    assert (default.dark_skin_probability, default.dark_skin_gamma) == (0.15, (1.3, 2.2))
    flags = ["--hard-fraction", "0.2", "--dark-skin", "0.4", "--dark-skin-gamma", "1.5", "3"]
    config = augment_config(parse_args([*base, *flags]))
    assert config.hard_fraction == 0.2
    assert (config.dark_skin_probability, config.dark_skin_gamma) == (0.4, (1.5, 3.0))


def test_hard_cases_shrink_the_lesion() -> None:
    image, mask = _shape_pair()
    config = AugmentConfig(hard_fraction=1.0, zoom_area=(1.0, 1.0), rotation_degrees=0.0)
    shares = [
        augment_pair(image, mask, 96, config, np.random.default_rng(seed))[1].mean()
        for seed in range(20)
    ]
    assert max(shares) < 0.15 < (mask > 0).mean()


def _batches(first_epoch: int = 0) -> AugmentedBatches:
    return AugmentedBatches(*_batch_arrays(), 32, 4, seed=7, first_epoch=first_epoch)


def test_batches_are_reproducible_and_resume_where_they_stopped() -> None:
    first, again = _batches(), _batches()
    assert len(first) == 2
    x, y = first[1]
    assert x.shape == (4, 32, 32, 3) and y.shape == (4, 32, 32, 1)
    np.testing.assert_array_equal(x, again[1][0])
    np.testing.assert_array_equal(y, again[1][1])
    first.on_epoch_end()
    resumed = _batches(first_epoch=1)
    np.testing.assert_array_equal(first[0][0], resumed[0][0])
    assert not np.array_equal(first[0][0], again[0][0])  # a new epoch, new augmentation


def test_a_teacher_blends_its_map_of_the_served_bytes_into_the_targets() -> None:
    seen: list[np.ndarray] = []

    def teacher(pixels: np.ndarray) -> np.ndarray:
        seen.append(pixels)
        return np.full(pixels.shape[:3], 0.25, np.float32)

    plain = _batches()
    taught = _batches()
    taught.teacher, taught.teacher_weight = teacher, 0.8
    (x, y), (tx, ty) = plain[1], taught[1]
    (pixels,) = seen
    assert pixels.dtype == np.uint8 and pixels.shape == (4, 32, 32, 3)
    np.testing.assert_array_equal(tx, np.clip(np.round(x), 0, 255))
    np.testing.assert_allclose(ty, 0.8 * 0.25 + 0.2 * y, rtol=1e-6)
    assert set(np.unique(y)) == {0.0, 1.0} and len(np.unique(ty)) == 2
    with pytest.raises(ValueError, match="teacher_weight"):
        AugmentedBatches(*_batch_arrays(), 32, 4, seed=7, teacher=teacher, teacher_weight=1.5)


def _batch_arrays() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 48, 48, 3), dtype=np.uint8)
    masks = np.zeros((10, 48, 48, 1), np.uint8)
    masks[:, 10:30, 12:36] = 255
    return images, masks


def _train(run: Path, backend: str, source: list[str], epochs: int, *extra: str) -> dict:
    result = run_module(
        "train",
        *source,
        "--run",
        str(run),
        "--size",
        "32",
        "--base-filters",
        "4",
        "--depth",
        "2",
        "--epochs",
        str(epochs),
        "--batch-size",
        "2",
        "--cache-dir",
        str(run.parent / "cache"),
        *extra,
        env={"KERAS_BACKEND": backend},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((run / "config.json").read_text())


def _packs(tmp_path: Path, size: int) -> tuple[dict[str, list[str]], list[Path]]:
    """A split of the fixture crops and its training and held-out packs at `size`."""
    ids = json.loads((FIXTURES / "models" / "split.json").read_text())["train"]
    split = {"train": ids[:4], "holdout": ids[4:]}
    packs = [tmp_path / "train.npz", tmp_path / "holdout.npz"]
    for part, pack in zip(("train", "holdout"), packs, strict=True):
        samples = [s for s in find_samples(FIXTURES / "isic2018") if s.image_id in split[part]]
        write_pack({"isic2018": samples}, size, pack)
    return split, packs


def _history_rows(run: Path) -> list[dict[str, str]]:
    with (run / "history.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_tiny_run_from_folders_with_tensorflow(tmp_path: Path) -> None:
    source = [
        "--data-root",
        str(FIXTURES / "isic2018"),
        str(FIXTURES / "isic2018_fullview"),
        "--holdout-fraction",
        "0.34",
    ]
    run = tmp_path / "run"
    dark = ["--dark-skin", "0.5", "--dark-skin-gamma", "1.5", "3"]
    config = _train(run, "tensorflow", source, 1, *dark)
    assert config["backend"] == "tensorflow" and config["device"].startswith("CPU")
    assert (config["dark_skin"], config["dark_skin_gamma"]) == (0.5, [1.5, 3.0])
    assert config["n_train"] == 8 and config["n_holdout"] == 4  # both folders' pairs
    for name in ("best.keras", "unet_float.keras", "curves.png", "eval_isic2018/per_image.csv"):
        assert (run / name).exists(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) == {"holdout_isic2018", "holdout_isic2018_fullview"}
    assert metrics["holdout_isic2018"]["n"] == 2
    split = json.loads((run / "split.json").read_text())
    assert len(split["holdout"]) == 2 and not set(split["holdout"]) & set(split["train"])
    _train(run, "tensorflow", source, 2, *dark)  # the same command, more epochs: resumes
    assert [row["epoch"] for row in _history_rows(run)] == ["0", "1"]


@pytest.mark.slow
def test_tiny_run_from_packs_with_jax(tmp_path: Path) -> None:
    """The GPU machine's path (scripts/gpu_run.sh): packs in, Keras on JAX (here with the
    Lovász loss, whose sort must trace under jit)."""
    split, packs = _packs(tmp_path, 48)
    run = tmp_path / "run"
    source = ["--pack", str(packs[0]), "--holdout-pack", str(packs[1])]
    build_unet(32, 2, 2).save(tmp_path / "narrow.keras")  # widened to the run's base 4
    start = ["--init-from", str(tmp_path / "narrow.keras")]
    config = _train(run, "jax", source, 2, "--time-budget", "600", "--loss", "lovasz_bce", *start)
    assert (config["backend"], config["loss"]) == ("jax", "lovasz_bce")
    assert (config["n_train"], config["n_holdout"]) == (4, 2)
    rates = [float(row["learning_rate"]) for row in _history_rows(run)]
    assert rates == pytest.approx([cosine_rate(e, 2, config["lr"]) for e in range(2)])
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["holdout_at_model_size"]["n"] == 2
    assert 0.0 <= metrics["holdout_at_model_size"]["dice"] <= 1.0
    assert json.loads((run / "split.json").read_text())["holdout"] == sorted(split["holdout"])


@pytest.mark.slow
def test_a_run_distils_a_served_teacher(tmp_path: Path) -> None:
    """--teacher: the fixture's int8 file (64 px) teaches a run at its size; another size is a
    clear refusal."""
    _, packs = _packs(tmp_path, 64)
    source = ["--pack", str(packs[0]), "--holdout-pack", str(packs[1])]
    teacher = ["--teacher", str(TINY_TFLITE), "--teacher-weight", "0.7"]
    config = _train(tmp_path / "run", "jax", source, 1, "--size", "64", *teacher)
    assert (config["teacher"], config["teacher_weight"]) == (str(TINY_TFLITE), 0.7)
    assert (tmp_path / "run" / "unet_float.keras").exists()
    refused = run_module(
        "train", *source, "--run", str(tmp_path / "other"), "--size", "32", *teacher,
        env={"KERAS_BACKEND": "jax"},
    )  # fmt: skip
    assert refused.returncode == 1 and "--teacher takes 64 px inputs" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.slow
def test_a_run_refuses_to_start_from_a_wider_model(tmp_path: Path) -> None:
    _, packs = _packs(tmp_path, 32)
    build_unet(32, 8, 2).save(tmp_path / "wide.keras")
    result = run_module(
        "train",
        *["--pack", str(packs[0]), "--holdout-pack", str(packs[1]), "--run", str(tmp_path / "r")],
        *["--size", "32", "--base-filters", "4", "--depth", "2", "--batch-size", "2"],
        *["--init-from", str(tmp_path / "wide.keras")],
        env={"KERAS_BACKEND": "jax"},
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "--init-from: cannot start base 4 from a wider model (base 8)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_ema_run_validates_and_keeps_the_averaged_weights(tmp_path: Path) -> None:
    """With --ema, the checkpoint holds the weights that were validated: the average, not the
    last step's (which the backup keeps for resuming)."""
    import keras

    from segcore.processing import binary
    from train.losses import dice_bce_loss
    from train.sources import from_packs

    _, packs = _packs(tmp_path, 32)
    run = tmp_path / "run"
    source = ["--pack", str(packs[0]), "--holdout-pack", str(packs[1])]
    config = _train(run, "jax", source, 1, "--ema", "0.5", "--lr", "1.0")
    assert config["ema"] == 0.5
    held_out = from_packs(*packs, 32)
    x, y = held_out.hold_x.astype("float32"), binary(held_out.hold_y).astype("float32")

    def held_out_loss(model: keras.Model) -> float:
        model.compile(loss=dice_bce_loss)
        return float(model.evaluate(x, y, batch_size=2, verbose=0))

    validated = float(_history_rows(run)[0]["val_loss"])
    best = keras.saving.load_model(run / "best.keras", compile=False)
    assert held_out_loss(best) == pytest.approx(validated, rel=1e-4)
    best.load_weights(run / "backup" / "latest.weights.h5")
    assert held_out_loss(best) != pytest.approx(validated, rel=1e-3)

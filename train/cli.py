"""Train the U-Net on ISIC pairs, with any Keras backend (TensorFlow or JAX, CPU or GPU).

    python -m train --data-root ../shared/data/isic2018 ../shared/data/isic2018_fullview \
        --split models/split.json --run runs/unet_b16_128
    python -m train --pack build/pack_train.npz --holdout-pack build/pack_holdout.npz --run out/run

Pairs come from ISIC-layout folders (all holding the split's ids: crops, full-field copies) or
from packs written by `python -m train.pack`. Writes into the run folder: config.json,
split.json, history.csv, curves.png, best.keras (checkpoint with optimizer), unet_float.keras
(best weights, no optimizer) and metrics.json (held-out ids scored at their native resolution
per folder, or at the model size from a pack). Re-running the same command resumes.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from train.augment import AugmentConfig

if TYPE_CHECKING:
    from isic.scoring import Predictor
    from train.batches import Teacher
    from train.sources import TrainingData


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--data-root",
        type=Path,
        nargs="+",
        help="ISIC-layout folders (holding ISIC2018_Task1-2_Training_Input etc.) of the same ids",
    )
    source.add_argument("--pack", type=Path, help="training pack (python -m train.pack)")
    parser.add_argument("--holdout-pack", type=Path, help="held-out pack, with --pack")
    parser.add_argument(
        "--split", type=Path, help="recorded split.json to use (default: a new seeded split)"
    )
    parser.add_argument("--run", type=Path, required=True, help="run folder (resumes if present)")
    parser.add_argument("--size", type=int, default=128, help="model input size (pixels)")
    parser.add_argument("--base-filters", type=int, default=16)
    parser.add_argument("--depth", type=int, default=4, help="number of 2x poolings")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (cosine decay)")
    parser.add_argument("--patience", type=int, default=12, help="early-stopping patience")
    parser.add_argument(
        "--time-budget",
        type=float,
        help="seconds of training at most: the run ends after the epochs that fit, its learning"
        " rate decayed over them (for a lent GPU's time)",
    )
    parser.add_argument("--holdout-fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument(
        "--hard-fraction",
        type=float,
        default=0.35,
        help="share of training pairs made into synthetic hard cases",
    )
    parser.add_argument(
        "--dark-skin",
        type=float,
        default=0.15,
        metavar="P",
        help="share of training pairs given a darker, warmer skin (a gamma and a brown tint)",
    )
    parser.add_argument(
        "--dark-skin-gamma",
        type=float,
        nargs=2,
        default=(1.3, 2.2),
        metavar=("LOW", "HIGH"),
        help="the darker skin's gamma range (higher is darker)",
    )
    parser.add_argument(
        "--init-from",
        type=Path,
        help="start from this .keras model's weights (the same U-Net, or a narrower one, widened"
        " without changing its output as train.widen does; a multi-scale model's U-Net)",
    )
    parser.add_argument(
        "--ema",
        type=float,
        metavar="MOMENTUM",
        help="validate and keep an exponential moving average of the weights (momentum per step,"
        " e.g. 0.999) instead of the last step's weights",
    )
    parser.add_argument(
        "--loss",
        choices=("dice_bce", "lovasz_bce"),
        default="dice_bce",
        help="training loss: Dice + BCE, or Lovász-Jaccard + BCE (to fine-tune for Jaccard)",
    )
    parser.add_argument(
        "--teacher",
        type=Path,
        help="distil: a served .tflite model (segcore's prediction, mirrors and all) whose map of"
        " each augmented input is blended into its target",
    )
    parser.add_argument(
        "--teacher-weight",
        type=float,
        default=0.5,
        metavar="W",
        help="with --teacher: target = W x the teacher's map + (1 - W) x the ground truth",
    )
    parser.add_argument("--workers", type=int, default=1, help="augmentation threads")
    parser.add_argument(
        "--limit", type=int, help="use only the first N training pairs (smoke runs)"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(".cache"),
        help="where decoded, resized arrays are kept between runs",
    )
    args = parser.parse_args(argv)
    if bool(args.pack) != bool(args.holdout_pack):
        parser.error("--pack and --holdout-pack go together")
    if args.pack and (args.split or args.limit):
        parser.error("a pack holds its split: --split and --limit are for --data-root")
    if args.init_from and not args.init_from.is_file():
        parser.error(f"--init-from: no such model: {args.init_from}")
    if args.ema is not None and not 0 < args.ema < 1:
        parser.error("--ema is a momentum between 0 and 1")
    if args.teacher and not args.teacher.is_file():
        parser.error(f"--teacher: no such model: {args.teacher}")
    if not 0 <= args.teacher_weight <= 1:
        parser.error("--teacher-weight is a share between 0 and 1")
    if not 0 <= args.dark_skin <= 1:
        parser.error("--dark-skin is a share between 0 and 1")
    if not 1 <= args.dark_skin_gamma[0] <= args.dark_skin_gamma[1]:
        parser.error("--dark-skin-gamma needs 1 <= LOW <= HIGH")
    return args


def augment_config(args: argparse.Namespace) -> AugmentConfig:
    """The augmentation the command line asks for."""
    low, high = args.dark_skin_gamma
    return AugmentConfig(
        hard_fraction=args.hard_fraction,
        dark_skin_probability=args.dark_skin,
        dark_skin_gamma=(low, high),
    )


def load_teacher(args: argparse.Namespace) -> Teacher | None:
    """The served prediction of `--teacher` (one single-threaded interpreter per augmentation
    worker), or None; a teacher of another input size is a usage error."""
    if args.teacher is None:
        return None
    from segcore.predictor import TFLitePredictor

    try:
        teacher = TFLitePredictor(args.teacher, num_threads=1, pool_size=max(args.workers, 1))
    except (ValueError, RuntimeError) as error:
        raise SystemExit(f"python -m train: error: --teacher: {error}") from None
    if teacher.input_size != args.size:
        raise SystemExit(
            f"python -m train: error: --teacher takes {teacher.input_size} px inputs,"
            f" the run trains at {args.size} px"
        )
    return teacher.predict


def load_data(args: argparse.Namespace, run: Path) -> TrainingData:
    """The run's pairs and split (the run's own split.json when resuming)."""
    from isic import data
    from train import sources

    if args.pack:
        loaded = sources.from_packs(args.pack, args.holdout_pack, args.size)
        data.save_split(loaded.split, run / "split.json", args.seed)
        return loaded
    split_path = run / "split.json"
    if split_path.exists():
        split = data.load_split(split_path)
    elif args.split:
        split = data.load_split(args.split)
    else:
        ids = [s.image_id for s in data.find_samples(args.data_root[0], "training")]
        split = data.split_ids(ids[: args.limit], args.holdout_fraction, args.seed)
    if args.limit:
        split = {part: ids[: args.limit] for part, ids in split.items()}
    data.save_split(split, split_path, args.seed)
    return sources.from_folders(args.data_root, split, args.size, args.cache_dir)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import keras

    from segcore.processing import binary
    from train.batches import AugmentedBatches
    from train.losses import LOSSES, dice_metric
    from train.model import build_unet
    from train.multiscale import load_unet
    from train.plots import plot_history
    from train.runtime import EpochTimer, device_description, strategy_scope
    from train.schedule import EpochSchedule
    from train.widen import init_from

    run: Path = args.run
    run.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(args.seed)
    loaded = load_data(args, run)
    monitor = "val_dice_metric"
    history = history_values(run / "history.csv", monitor)
    done_epochs = len(history)
    batches = AugmentedBatches(
        loaded.train_x,
        loaded.train_y,
        args.size,
        args.batch_size,
        args.seed,
        augment_config(args),
        first_epoch=done_epochs,
        workers=args.workers,
        teacher=load_teacher(args),
        teacher_weight=args.teacher_weight,
    )
    hold_y = binary(loaded.hold_y).astype("float32")

    with strategy_scope():
        model = build_unet(args.size, args.base_filters, args.depth)
        if args.init_from and not done_epochs:
            try:
                init_from(model, load_unet(args.init_from))
            except ValueError as error:
                raise SystemExit(f"python -m train: error: --init-from: {error}") from None
        optimizer = keras.optimizers.Adam(
            args.lr, use_ema=args.ema is not None, ema_momentum=args.ema or 0.99
        )
        model.compile(optimizer, loss=LOSSES[args.loss], metrics=[dice_metric])

    config = {
        **{k: _jsonable(v) for k, v in vars(args).items()},
        "parameters": model.count_params(),
        "n_train": len(loaded.train_x),
        "n_holdout": len(loaded.hold_x),
        "backend": keras.backend.backend(),
        "device": device_description(),
    }
    (run / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(json.dumps(config, indent=2), flush=True)

    model.fit(
        batches,
        validation_data=(loaded.hold_x.astype("float32"), hold_y),
        validation_batch_size=args.batch_size,
        epochs=args.epochs,
        callbacks=[
            EpochTimer(),
            EpochSchedule(args.epochs, args.lr, args.time_budget),
            # Backed up with the trained weights; validated and checkpointed with the average.
            keras.callbacks.BackupAndRestore(str(run / "backup"), delete_checkpoint=False),
            *([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if args.ema is not None else []),
            keras.callbacks.ModelCheckpoint(
                run / "best.keras",
                monitor=monitor,
                mode="max",
                save_best_only=True,
                initial_value_threshold=max(history, default=None),
            ),
            keras.callbacks.EarlyStopping(monitor=monitor, mode="max", patience=args.patience),
            keras.callbacks.CSVLogger(run / "history.csv", append=True),
        ],
        verbose=1 if _interactive() else 2,
    )
    plot_history(run / "history.csv", run / "curves.png")

    best = keras.saving.load_model(run / "best.keras", compile=False)
    keras.mixed_precision.set_global_policy("float32")  # what is deployed is float32 throughout
    deployable = build_unet(args.size, args.base_filters, args.depth)
    deployable.set_weights(best.get_weights())
    deployable.save(run / "unet_float.keras")

    metrics = score_holdout(deployable, loaded, run)
    (run / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))
    return 0


def score_holdout(model: Any, loaded: TrainingData, run: Path) -> dict[str, dict[str, float]]:
    """ISIC metrics of the held-out ids: per folder at each image's native resolution (with the
    best/worst overlays), or at the model size when only a pack is at hand."""
    from isic.scoring import evaluate, model_predictor

    predict, size = model_predictor(model)
    if not loaded.holdout_samples:
        return {"holdout_at_model_size": score_arrays(predict, loaded.hold_x, loaded.hold_y)}
    return {
        f"holdout_{name}": evaluate(samples, predict, size, run / f"eval_{name}")[0]
        for name, samples in loaded.holdout_samples.items()
    }


def score_arrays(predict: Predictor, images: np.ndarray, masks: np.ndarray) -> dict[str, float]:
    """Per-image mean ISIC metrics of a predictor on (uint8 images, 0..255 masks) arrays at the
    model size."""
    from segcore.metrics import macro_average, score_pair
    from segcore.processing import postprocess

    rows = [
        score_pair(truth[..., 0], postprocess(prob, *truth.shape[:2]))
        for prob, truth in zip(predict(images), masks, strict=True)
    ]
    return macro_average(rows)


def _jsonable(value: object) -> object:
    """Paths (also in lists) as strings, for config.json."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def history_values(history_csv: Path, monitor: str) -> list[float]:
    """`monitor` per finished epoch of an earlier (resumed) run, so a resumed run continues it."""
    if not history_csv.exists():
        return []
    with open(history_csv, newline="") as f:
        return [float(row[monitor]) for row in csv.DictReader(f) if row.get(monitor)]


def _interactive() -> bool:
    import sys

    return sys.stdout.isatty()


if __name__ == "__main__":
    raise SystemExit(main())

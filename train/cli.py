"""Train the U-Net on data in the official ISIC 2018 layout.

    python -m train --data-root ../shared/data/isic2018 --run runs/unet_b16_128

Writes into the run folder: config.json, split.json, history.csv, curves.png, best.keras
(checkpoint with optimizer), unet_float.keras (best weights, no optimizer) and metrics.json
(held-out ids scored at their native resolution). Re-running the same command resumes.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-root",
        type=Path,
        required=True,
        help="folder holding ISIC2018_Task1-2_Training_Input etc.",
    )
    parser.add_argument("--run", type=Path, required=True, help="run folder (resumes if present)")
    parser.add_argument("--size", type=int, default=128, help="model input size (pixels)")
    parser.add_argument("--base-filters", type=int, default=16)
    parser.add_argument("--depth", type=int, default=4, help="number of 2x poolings")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (cosine decay)")
    parser.add_argument("--patience", type=int, default=12, help="early-stopping patience")
    parser.add_argument("--holdout-fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument(
        "--limit", type=int, help="use only the first N training pairs (smoke runs)"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(".cache"),
        help="where decoded, resized arrays are kept between runs",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import keras

    from isic import data
    from isic.scoring import evaluate, model_predictor
    from train.cache import load_resized
    from train.losses import dice_bce_loss, dice_metric
    from train.model import build_unet
    from train.plots import plot_history
    from train.runtime import EpochTimer, strategy_scope

    run: Path = args.run
    run.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(args.seed)

    samples = data.find_samples(args.data_root, "training")[: args.limit]
    split_path = run / "split.json"
    if split_path.exists():
        split = data.load_split(split_path)
    else:
        split = data.split_ids([s.image_id for s in samples], args.holdout_fraction, args.seed)
        data.save_split(split, split_path, args.seed)
    by_id = {s.image_id: s for s in samples}
    train_samples = [by_id[i] for i in split["train"]]
    holdout_samples = [by_id[i] for i in split["holdout"]]

    # Train crops come from a cache a third larger than the model input, so zoom-in keeps detail.
    cache_size = round(args.size * 4 / 3 / 16) * 16
    train_x, train_y = load_resized(train_samples, cache_size, args.cache_dir)
    hold_x, hold_y = load_resized(holdout_samples, args.size, args.cache_dir)

    from train.augment import evaluation_dataset, training_dataset

    train_ds = training_dataset(train_x, train_y, args.size, args.batch_size, args.seed)
    hold_ds = evaluation_dataset(hold_x, hold_y, args.batch_size)
    steps = len(train_x) // args.batch_size

    with strategy_scope():
        model = build_unet(args.size, args.base_filters, args.depth)
        schedule = keras.optimizers.schedules.CosineDecay(
            args.lr / 10,
            decay_steps=args.epochs * steps,
            alpha=0.02,
            warmup_target=args.lr,
            warmup_steps=steps,
        )
        model.compile(keras.optimizers.Adam(schedule), loss=dice_bce_loss, metrics=[dice_metric])

    config = {
        **{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "cache_size": cache_size,
        "parameters": model.count_params(),
        "n_train": len(train_samples),
        "n_holdout": len(holdout_samples),
        "backend": keras.backend.backend(),
    }
    (run / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    print(json.dumps(config, indent=2), flush=True)

    monitor = "val_dice_metric"
    model.fit(
        train_ds,
        validation_data=hold_ds,
        epochs=args.epochs,
        callbacks=[
            EpochTimer(),
            keras.callbacks.BackupAndRestore(str(run / "backup"), delete_checkpoint=False),
            keras.callbacks.ModelCheckpoint(
                run / "best.keras",
                monitor=monitor,
                mode="max",
                save_best_only=True,
                initial_value_threshold=best_so_far(run / "history.csv", monitor),
            ),
            keras.callbacks.EarlyStopping(monitor=monitor, mode="max", patience=args.patience),
            keras.callbacks.CSVLogger(run / "history.csv", append=True),
        ],
        verbose=1 if _interactive() else 2,
    )
    plot_history(run / "history.csv", run / "curves.png")

    best = keras.saving.load_model(run / "best.keras", compile=False)
    deployable = build_unet(args.size, args.base_filters, args.depth)
    deployable.set_weights(best.get_weights())
    deployable.save(run / "unet_float.keras")

    predict, size = model_predictor(deployable)
    summary = evaluate(holdout_samples, predict, size, run / "eval_holdout")
    (run / "metrics.json").write_text(json.dumps({"holdout": summary}, indent=2) + "\n")
    print(json.dumps({"holdout": summary}, indent=2))
    return 0


def best_so_far(history_csv: Path, monitor: str) -> float | None:
    """Best value of `monitor` in an earlier (resumed) run's history, so a resumed run keeps it."""
    if not history_csv.exists():
        return None
    with open(history_csv, newline="") as f:
        values = [float(row[monitor]) for row in csv.DictReader(f) if row.get(monitor)]
    return max(values, default=None)


def _interactive() -> bool:
    import sys

    return sys.stdout.isatty()


if __name__ == "__main__":
    raise SystemExit(main())

"""The figure of a training run: loss and Dice curves per epoch.

python -m train.plots RUN    # RUN/history.csv -> RUN/curves.png
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot_history(history_csv: Path, out_png: Path) -> None:
    """Plot training/held-out loss and Dice per epoch from Keras' CSVLogger file."""
    with open(history_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key in zip(axes, ("loss", "dice_metric"), strict=True):
        for prefix, label in (("", "train (augmented)"), ("val_", "held-out")):
            if rows and prefix + key in rows[0]:
                ax.plot(epochs, [float(r[prefix + key]) for r in rows], label=label)
        ax.set_xlabel("epoch")
        ax.set_title("Dice + BCE loss" if key == "loss" else "Dice (thresholded, model size)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    run = Path(sys.argv[1])
    plot_history(run / "history.csv", run / "curves.png")

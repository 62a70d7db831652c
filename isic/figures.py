"""The figure of a scored set: a grid of titled overlays (best and worst cases)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def overlay_grid(panels: list[tuple[str, np.ndarray]], out_png: Path, columns: int = 4) -> None:
    """Save titled overlay images in a grid."""
    rows = max(1, -(-len(panels) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.0 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (title, image) in zip(axes.ravel(), panels, strict=False):
        ax.imshow(image)
        ax.set_title(title, fontsize=8)
    fig.suptitle("green: ground truth, magenta: prediction", fontsize=9)
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)

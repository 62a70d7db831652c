"""How far to trust a mask: the model's own signals on its output grid, a linear estimate of the
image's Dice from them, and a "needs review" flag below a threshold, with the reasons in words.

The coefficients and the threshold are fitted, not chosen by hand: `segcore/quality.json`,
written by `benchmarks/studies/quality_fit.py` under the criteria written first
(`benchmarks/studies/second_look_criteria.md`) for the model whose sha256 it records.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segcore.components import components
from segcore.measurements import confidence
from segcore.processing import THRESHOLD

MAX_COMPONENTS = 5
"""More separate parts than this count as this many (a ragged mask is ragged either way)."""
QUALITY_FILE = Path(__file__).resolve().parent / "quality.json"

SIGNALS = (
    "lesion_mean_probability",
    "mean_certainty",
    "log_uncertain_to_lesion",
    "components",
    "log_lesion_share",
    "touches_border",
)
"""The estimate's inputs, in the order of its coefficients."""
RISKY_WHEN_LOW = frozenset({"lesion_mean_probability", "mean_certainty", "log_lesion_share"})
"""Signals that speak against a mask when low; the others when high. A signal is a reason only
on its risky side (a fitted term can be negative on the other side, where signals overlap)."""
TOGETHER = "its signals together predict a low Dice"
"""The reason when no single signal is on its risky side."""


@dataclass(frozen=True)
class Quality:
    """The estimate for one result."""

    predicted_dice: float
    needs_review: bool
    reasons: tuple[str, ...]


def signals(probabilities: np.ndarray) -> dict[str, float]:
    """The model's signals on its own grid (S, S): how sure it is (segcore.measurements'
    confidence), how clean the mask is."""
    sure = confidence(probabilities)
    lesion = probabilities > THRESHOLD
    lesion_px = int(np.count_nonzero(lesion))
    uncertain = round(sure.uncertain_fraction * lesion.size)  # the count the fraction is of
    border = np.concatenate([lesion[0], lesion[-1], lesion[:, 0], lesion[:, -1]])
    _, parts = components(lesion)
    return {
        "lesion_mean_probability": sure.lesion_mean_probability or 0.0,
        "mean_certainty": sure.mean_certainty,
        "log_uncertain_to_lesion": math.log((uncertain + 1) / (lesion_px + 1)),
        "components": float(min(parts, MAX_COMPONENTS)),
        "log_lesion_share": math.log((lesion_px + 1) / lesion.size),
        "touches_border": float(border.any()),
    }


def reason(name: str, values: dict[str, float]) -> str:
    """One signal's part in a low estimate, in words (said of it on its risky side)."""
    if name == "lesion_mean_probability":
        if values[name] == 0.0:
            return "no lesion found"
        return f"the model is unsure of the lesion (mean probability {values[name]:.2f})"
    if name == "mean_certainty":
        return "the model is unsure over much of the image"
    if name == "log_uncertain_to_lesion":
        return "a wide uncertain margin around the lesion"
    if name == "components":
        more = "+" if values[name] >= MAX_COMPONENTS else ""
        return f"the mask is in {int(values[name])}{more} separate parts"
    if name == "log_lesion_share":
        return f"the lesion is small in the field ({math.exp(values[name]):.1%})"
    return "the lesion touches the image's edge"


@dataclass(frozen=True)
class QualityModel:
    """A fitted linear estimate of Dice on standardised SIGNALS, and the review threshold."""

    means: tuple[float, ...]
    scales: tuple[float, ...]
    coefficients: tuple[float, ...]
    intercept: float
    threshold: float
    model_sha256: str

    @classmethod
    def load(cls, path: Path = QUALITY_FILE) -> QualityModel:
        document = json.loads(path.read_text())
        if tuple(document["signals"]) != SIGNALS:
            raise ValueError(f"{path} is for signals {document['signals']}, not {list(SIGNALS)}")
        return cls(
            means=tuple(document["means"]),
            scales=tuple(document["scales"]),
            coefficients=tuple(document["coefficients"]),
            intercept=float(document["intercept"]),
            threshold=float(document["threshold"]),
            model_sha256=str(document["model_sha256"]),
        )

    def contributions(self, values: dict[str, float]) -> dict[str, float]:
        """Each signal's term of the estimate (standardised value x coefficient)."""
        return {
            name: (values[name] - mean) / scale * coefficient
            for name, mean, scale, coefficient in zip(
                SIGNALS, self.means, self.scales, self.coefficients, strict=True
            )
        }

    def estimate(self, values: dict[str, float]) -> float:
        """The predicted Dice of a result with these signals, in [0, 1]."""
        raw = self.intercept + sum(self.contributions(values).values())
        return min(1.0, max(0.0, raw))

    def assess(self, probabilities: np.ndarray) -> Quality:
        """The estimate, the flag and (when flagged) the two signals on their risky side that
        lowered it most."""
        values = signals(probabilities)
        predicted = self.estimate(values)
        flagged = predicted < self.threshold
        reasons: tuple[str, ...] = ()
        if flagged:
            terms = self.contributions(values)
            typical = dict(zip(SIGNALS, self.means, strict=True))

            def against(name: str) -> bool:
                return terms[name] < 0 and (values[name] < typical[name]) == (
                    name in RISKY_WHEN_LOW
                )

            if values["lesion_mean_probability"] == 0.0:
                worst = ["lesion_mean_probability"]
            else:
                worst = [name for name in sorted(terms, key=terms.__getitem__) if against(name)]
            reasons = tuple(reason(name, values) for name in worst[:2]) or (TOGETHER,)
        return Quality(round(predicted, 4), flagged, reasons)

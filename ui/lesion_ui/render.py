"""Pictures and tables from an API result."""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image

from lesion_api.schemas import Confidence, Measurements, Quality, Segmentation
from segcore.overlay import overlay as outline


def overlay(image: Image.Image, mask: Image.Image) -> Image.Image:
    """The image with the lesion outline drawn (segcore's overlay, as in the evaluation)."""
    rgb = np.asarray(image.convert("RGB"))
    lesion = np.asarray(mask.convert("L").resize(image.size))
    return Image.fromarray(outline(rgb, lesion))


def size(n_bytes: int) -> str:
    """A byte count for people: 4.3 MB, 50 kB."""
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:.0f} kB"


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def measurement_rows(m: Measurements, confidence: Confidence) -> list[dict[str, str]]:
    """Rows of (measurement, value) for a table; mm values only when a spacing was given."""
    rows = [
        ("lesion found", "yes" if m.lesion_found else "no"),
        ("area (px)", f"{m.area_px:,}"),
        ("area (% of image)", f"{100 * m.area_fraction:.1f}"),
        ("equivalent diameter (px)", f"{m.equivalent_diameter_px:.1f}"),
        ("perimeter (px)", f"{m.perimeter_px:.1f}"),
        ("asymmetry (0 = symmetric)", f"{m.asymmetry:.3f}"),
        ("border irregularity (1 = disc)", f"{m.border_irregularity:.3f}"),
    ]
    if m.bounding_box:
        b = m.bounding_box
        rows.append(("bounding box (x, y, w, h)", f"{b.x}, {b.y}, {b.width}, {b.height}"))
    if m.area_mm2 is not None:
        rows += [
            ("area (mm²)", f"{m.area_mm2:.2f}"),
            ("equivalent diameter (mm)", f"{m.equivalent_diameter_mm:.2f}"),
            ("perimeter (mm)", f"{m.perimeter_mm:.2f}"),
        ]
    rows.append(("model certainty (0..1)", f"{confidence.mean_certainty:.3f}"))
    return [{"measurement": name, "value": value} for name, value in rows]


def quality_badge(quality: Quality) -> str:
    """The badge's words: "Needs review" with the reasons, or "Looks fine"; the estimated Dice."""
    dice = f"estimated Dice {quality.predicted_dice:.2f}"
    if not quality.needs_review:
        return f"**Looks fine** ({dice})"
    return f"**Needs review** ({dice}): " + "; ".join(quality.reasons)


def report(name: str, body: Segmentation, round_trip_ms: float) -> bytes:
    """The JSON report offered for download (no image data in it)."""
    document = {"file": name, "round_trip_ms": round_trip_ms, **body.report()}
    return json.dumps(document, indent=2).encode()

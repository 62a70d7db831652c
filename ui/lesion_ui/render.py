"""Pictures and tables from an API result."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from lesion_api.schemas import Confidence, Measurements, Quality, Segmentation
from segcore.overlay import overlay as outline

# Viridis (matplotlib's perceptually uniform colour map) at 0, 1/16, ..., 1: linear between these
# stops it is within 6/255 of the original, without matplotlib.
VIRIDIS = (
    "#440154", "#48186a", "#472d7b", "#424086", "#3b528b", "#33638d", "#2c728e", "#26828e",
    "#21918c", "#1fa088", "#28ae80", "#3fbc73", "#5ec962", "#84d44b", "#addc30", "#d8e219",
    "#fde725",
)  # fmt: skip
# The summary's columns: the file, the API's field names, and why an image was not segmented.
SUMMARY_COLUMNS = (
    "file", "lesion_found", "area_fraction", "predicted_dice", "needs_review", "reasons", "error",
)  # fmt: skip
SummaryRow = dict[str, str | float | bool | None]


def lookup_table(stops: Sequence[str]) -> npt.NDArray[np.uint8]:
    """256 RGB colours (uint8), linear between equally spaced stops."""
    rgb = np.array([[int(stop[i : i + 2], 16) for i in (1, 3, 5)] for stop in stops], float)
    levels, at = np.arange(256) / 255, np.linspace(0, 1, len(stops))
    channels = [np.interp(levels, at, rgb[:, c]) for c in range(3)]
    return np.round(np.stack(channels, axis=1)).astype(np.uint8)


VIRIDIS_LUT = lookup_table(VIRIDIS)


def overlay(image: Image.Image, mask: Image.Image) -> Image.Image:
    """The image with the lesion outline drawn (segcore's overlay, as in the evaluation)."""
    rgb = np.asarray(image.convert("RGB"))
    lesion = np.asarray(mask.convert("L").resize(image.size))
    return Image.fromarray(outline(rgb, lesion))


def colour_map(probability: Image.Image) -> Image.Image:
    """The probability map (0..255 for 0..1) in viridis colours: dark purple 0, yellow 1."""
    return Image.fromarray(VIRIDIS_LUT[np.asarray(probability.convert("L"))])


def legend() -> str:
    """The colour bar under the probability map (HTML): viridis from 0 to 1."""
    gradient = ", ".join(VIRIDIS)
    return (
        '<div role="img" aria-label="colour bar: lesion probability 0 (purple) to 1 (yellow)">'
        f'<div style="height:0.8rem;border-radius:0.2rem;background:linear-gradient(to right,'
        f' {gradient})"></div>'
        '<div style="display:flex;justify-content:space-between;font-size:0.85rem">'
        "<span>0</span><span>lesion probability</span><span>1</span></div></div>"
    )


def png(image: Image.Image) -> bytes:
    """The image as PNG bytes."""
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


def summary_row(name: str, body: Segmentation) -> SummaryRow:
    """One image's row of the summary (SUMMARY_COLUMNS), with the API's values as they are."""
    quality = body.quality
    return {
        "file": name,
        "lesion_found": body.measurements.lesion_found,
        "area_fraction": body.measurements.area_fraction,
        "predicted_dice": quality.predicted_dice,
        "needs_review": quality.needs_review,
        "reasons": "; ".join(quality.reasons),
        "error": "",
    }


def failed_row(name: str, error: str) -> SummaryRow:
    """The summary's row of an image that was not segmented: only why."""
    return {**dict.fromkeys(SUMMARY_COLUMNS), "file": name, "error": error}


def csv_table(rows: Iterable[SummaryRow]) -> bytes:
    """The summary as CSV (UTF-8, a header of SUMMARY_COLUMNS)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def zip_archive(files: Mapping[str, bytes]) -> bytes:
    """A ZIP of these named files, made in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def unique_stems(names: Iterable[str]) -> list[str]:
    """The names' stems for download file names, made unique (a, a-2, ...): two images can share
    a name."""
    stems: list[str] = []
    for name in names:
        stem = candidate = Path(name).stem
        copy = 1
        while candidate in stems:
            copy += 1
            candidate = f"{stem}-{copy}"
        stems.append(candidate)
    return stems

"""Pictures and tables from an API result (Pillow only)."""

from __future__ import annotations

import io
import json

from PIL import Image, ImageChops, ImageFilter

OUTLINE = (255, 0, 255)


def overlay(image: Image.Image, mask: Image.Image, width: int = 3) -> Image.Image:
    """The image with the lesion outline drawn in magenta."""
    mask = mask.convert("L").resize(image.size)
    size = 2 * max(1, width * max(image.size) // 1000) + 1
    outline = ImageChops.subtract(
        mask.filter(ImageFilter.MaxFilter(size)), mask.filter(ImageFilter.MinFilter(size))
    )
    out = image.convert("RGB").copy()
    out.paste(Image.new("RGB", image.size, OUTLINE), mask=outline)
    return out


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def measurement_rows(measurements: dict, confidence: dict) -> list[dict]:
    """Rows of (measurement, value) for a table; mm values only when a spacing was given."""
    m = measurements
    rows = [
        ("lesion found", "yes" if m["lesion_found"] else "no"),
        ("area (px)", f"{m['area_px']:,}"),
        ("area (% of image)", f"{100 * m['area_fraction']:.1f}"),
        ("equivalent diameter (px)", f"{m['equivalent_diameter_px']:.1f}"),
        ("perimeter (px)", f"{m['perimeter_px']:.1f}"),
        ("asymmetry (0 = symmetric)", f"{m['asymmetry']:.3f}"),
        ("border irregularity (1 = disc)", f"{m['border_irregularity']:.3f}"),
    ]
    if m["bounding_box"]:
        b = m["bounding_box"]
        rows.append(
            ("bounding box (x, y, w, h)", f"{b['x']}, {b['y']}, {b['width']}, {b['height']}")
        )
    if m["area_mm2"] is not None:
        rows += [
            ("area (mm²)", f"{m['area_mm2']:.2f}"),
            ("equivalent diameter (mm)", f"{m['equivalent_diameter_mm']:.2f}"),
            ("perimeter (mm)", f"{m['perimeter_mm']:.2f}"),
        ]
    rows.append(("model certainty (0..1)", f"{confidence['mean_certainty']:.3f}"))
    return [{"measurement": name, "value": value} for name, value in rows]


def report(name: str, body: dict, round_trip_ms: float) -> bytes:
    """The JSON report offered for download (no image data in it)."""
    keep = {k: v for k, v in body.items() if not k.endswith("_base64")}
    return json.dumps({"file": name, "round_trip_ms": round_trip_ms, **keep}, indent=2).encode()

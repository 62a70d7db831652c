"""Segment dermoscopy images with the deployed TFLite model; write each mask and an overlay, and
print each result as a JSON line with the API's field names (measurements, confidence, quality).

python -m segcore.segment tests/fixtures/samples/ISIC_0000012.jpg --out out/
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image

from segcore.decoding import read_for_model
from segcore.measurements import confidence, measure
from segcore.overlay import overlay
from segcore.paths import DEPLOYED_MODEL
from segcore.predictor import DEFAULT_RUNTIME, RUNTIMES, TFLitePredictor
from segcore.processing import upright_rgb
from segcore.quality import QualityModel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m segcore.segment", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("images", type=Path, nargs="+", help="JPEG or PNG files")
    parser.add_argument("--model", type=Path, default=DEPLOYED_MODEL, help="a .tflite model")
    parser.add_argument("--runtime", choices=sorted(RUNTIMES), default=DEFAULT_RUNTIME)
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    parser.add_argument(
        "--pixel-spacing-mm", type=float, default=None, help="mm per pixel, for measurements in mm"
    )
    args = parser.parse_args(argv)

    try:
        predictor = TFLitePredictor(args.model, runtime=args.runtime)
    except ImportError:
        where = " (make setup puts it in .venv-tflite-runtime)" if args.runtime != "litert" else ""
        parser.error(f"the {args.runtime} runtime is not installed in this Python{where}")
    quality_model = QualityModel.load()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.images:
        with Image.open(path) as opened:
            result = predictor.segment(
                read_for_model(opened, predictor.input_size), keep_probability_map=False
            )
        with Image.open(path) as opened:
            image = upright_rgb(opened)
        mask = result.mask
        mask_path, overlay_path = (
            args.out / f"{path.stem}_{kind}.png" for kind in ("mask", "overlay")
        )
        mask.save(mask_path)
        Image.fromarray(overlay(image, np.asarray(mask))).save(overlay_path)
        report = {
            "image": str(path),
            "width": result.width,
            "height": result.height,
            "measurements": asdict(measure(mask, args.pixel_spacing_mm)),
            "confidence": asdict(confidence(result.probabilities)),
            "quality": asdict(quality_model.assess(result.probabilities)),
            "mask": str(mask_path),
            "overlay": str(overlay_path),
        }
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

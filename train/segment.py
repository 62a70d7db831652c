"""Segment one dermoscopy image with a trained model and write the mask and an overlay.

python -m train.segment tests/fixtures/samples/ISIC_0000012.jpg --out out/
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from segcore.processing import postprocess, preprocess, to_rgb_array

DEFAULT_MODEL = Path(__file__).parent.parent / "models" / "unet_float.keras"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m train.segment", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("images", type=Path, nargs="+", help="JPEG or PNG files")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="a .keras model")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    args = parser.parse_args(argv)

    import keras

    from train.evaluate import keras_predictor
    from train.plots import overlay

    predict, size = keras_predictor(keras.saving.load_model(args.model, compile=False))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.images:
        with Image.open(path) as opened:
            image = to_rgb_array(ImageOps.exif_transpose(opened))
        probabilities = predict(preprocess(image, size)[None])[0]
        mask = postprocess(probabilities, *image.shape[:2])
        Image.fromarray(mask).save(args.out / f"{path.stem}_mask.png")
        Image.fromarray(overlay(image, np.zeros_like(mask), mask)).save(
            args.out / f"{path.stem}_overlay.png"
        )
        print(
            json.dumps(
                {
                    "image": str(path),
                    "width": image.shape[1],
                    "height": image.shape[0],
                    "lesion_fraction": round(float((mask > 0).mean()), 4),
                    "mask": str(args.out / f"{path.stem}_mask.png"),
                    "overlay": str(args.out / f"{path.stem}_overlay.png"),
                }
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Train the tiny U-Net committed as tests/fixtures/models/unet_tiny.keras (run once).

    python -m scripts.make_fixture_model

It fits the 6 fixture training images well enough that its masks are meaningful, so the
conversion and parity tests can compare flavours quickly; it is not a model of any quality.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from isic.data import find_samples, load_pair
from segcore.processing import preprocess, resize_mask
from train.losses import dice_bce_loss
from train.model import build_unet

FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures"
SIZE = 64


def main() -> None:
    keras.utils.set_random_seed(0)
    samples = find_samples(FIXTURES / "isic2018", "training")
    pairs = [load_pair(s) for s in samples]
    x = np.stack([preprocess(image, SIZE) for image, _ in pairs]).astype(np.float32)
    y = np.stack([resize_mask(mask, SIZE) for _, mask in pairs])[..., None]
    x = np.concatenate([x, x[:, :, ::-1], x[:, ::-1]])
    y = np.concatenate([y, y[:, :, ::-1], y[:, ::-1]])
    model = build_unet(SIZE, base_filters=4, depth=3)
    model.compile(keras.optimizers.Adam(5e-3), loss=dice_bce_loss)
    model.fit(x, y, batch_size=6, epochs=150, verbose=0)
    out = FIXTURES / "models"
    out.mkdir(exist_ok=True)
    deployable = build_unet(SIZE, base_filters=4, depth=3)
    deployable.set_weights(model.get_weights())
    deployable.save(out / "unet_tiny.keras")  # keep in step with the int8 file below
    ids = [s.image_id for s in samples]
    split = {
        "note": "fixture split: the tiny model is fitted to these ids",
        "seed": 0,
        "train": ids,
        "holdout": ids,
    }
    (out / "split.json").write_text(json.dumps(split, indent=1) + "\n")
    # A deployed-style int8 model for the API tests (not gated: it is a fixture).
    from convert.export import convert
    from convert.representative import representative_dataset

    representative = representative_dataset(samples, SIZE, len(samples))
    for _, data in convert(deployable, ["int8"], representative):
        (out / "unet_tiny_int8.tflite").write_bytes(data)


if __name__ == "__main__":
    main()

"""`python -m train.pack`: the pack round-trips (ids, sources, sizes, masks exact, images within
JPEG error) and is read without pickle."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from isic.data import find_samples, load_pair
from segcore.processing import preprocess
from train.pack import main, read_pack

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_pack_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "pack.npz"
    assert main(["--data", str(FIXTURES), "--size", "64", "--out", str(out)]) == 0
    pairs = read_pack(out)
    crops = find_samples(FIXTURES / "isic2018", "training")
    full = find_samples(FIXTURES / "isic2018_fullview", "training")
    assert [(p.image_id, p.source) for p in pairs] == [
        *((s.image_id, "isic2018") for s in crops),
        *((s.image_id, "isic2018_fullview") for s in full),
    ]
    for pair, sample in zip(pairs, [*crops, *full], strict=True):
        image, mask = load_pair(sample)
        assert pair.image.shape == (64, 64, 3) and pair.mask.shape == (64, 64)
        assert set(np.unique(pair.mask)) <= {0, 255}
        expected = preprocess(image, 64).astype(int)
        assert np.abs(pair.image.astype(int) - expected).mean() < 4, "beyond JPEG error"
        resized = preprocess(np.repeat(mask[..., None], 3, axis=2), 64)[..., 0]
        assert np.array_equal(pair.mask, np.where(resized > 128, 255, 0))
    with np.load(out, allow_pickle=False) as pack:
        assert pack["images"].dtype == np.uint8 and int(pack["size"]) == 64

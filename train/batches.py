"""Augmented training batches as a Keras PyDataset: numpy in, numpy out, for any backend."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from train.augment import AugmentConfig, augment_pair

Teacher = Callable[[np.ndarray], np.ndarray]
"""A served prediction of model inputs: uint8 (N, S, S, 3) -> probability maps (N, S, S)."""


class AugmentedBatches(keras.utils.PyDataset):
    """Shuffled, augmented batches of (pixels 0..255, {0, 1} mask) at size x size.

    Batch `index` of epoch `epoch` depends only on (seed, epoch, index), so batches are the same
    whatever the number of workers, and a resumed run continues the sequence from `first_epoch`.

    With a `teacher` (distillation), the pixels are rounded to the uint8 bytes a served model
    reads, and each target is `teacher_weight` x the teacher's map of those pixels plus the rest
    x the ground truth: a soft mask.
    """

    def __init__(
        self,
        images: np.ndarray,
        masks: np.ndarray,
        size: int,
        batch_size: int,
        seed: int,
        config: AugmentConfig | None = None,
        first_epoch: int = 0,
        workers: int = 1,
        teacher: Teacher | None = None,
        teacher_weight: float = 0.5,
    ) -> None:
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=8)
        if len(images) != len(masks) or len(images) < batch_size:
            raise ValueError(f"{len(images)} images, {len(masks)} masks, batch {batch_size}")
        if not 0 <= teacher_weight <= 1:
            raise ValueError(f"teacher_weight must be between 0 and 1, got {teacher_weight}")
        self.teacher, self.teacher_weight = teacher, teacher_weight
        self.images, self.masks = images, masks.reshape(masks.shape[:3])
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.config = config or AugmentConfig()
        self.epoch = first_epoch
        self._order = self._shuffle(first_epoch)

    def _shuffle(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.images))

    def __len__(self) -> int:
        return len(self.images) // self.batch_size

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        # The trailing 1 keeps these streams apart from the shuffle's [seed, epoch] (numpy pads
        # shorter seed sequences with zeros, so [s, e, 0, 0] would equal [s, e]).
        rng = np.random.default_rng([self.seed, self.epoch, index, 1])
        chosen = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        pairs = [
            augment_pair(self.images[i], self.masks[i], self.size, self.config, rng) for i in chosen
        ]
        images, masks = np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
        if self.teacher is None:
            return images, masks
        pixels = np.clip(np.round(images), 0, 255).astype(np.uint8)
        taught = self.teacher(pixels)[..., None].astype(np.float32)
        weight = np.float32(self.teacher_weight)
        return pixels.astype(np.float32), weight * taught + (1 - weight) * masks

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._shuffle(self.epoch)

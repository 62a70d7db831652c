"""Where the deployed model lives in a checkout of this repository."""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
DEPLOYED_MODEL = REPOSITORY / "models" / "unet.tflite"

"""Shared fixtures: small real ISIC 2018 pairs committed under tests/fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


@pytest.fixture
def isic_root() -> Path:
    """Official-layout folder with 6 training pairs (128 px) and 4 validation pairs."""
    return FIXTURES / "isic2018"


@pytest.fixture
def fullview_root() -> Path:
    """Official-layout folder with the same 6 training ids at full field of view (256x192)."""
    return FIXTURES / "isic2018_fullview"

"""Shared fixtures: small real ISIC 2018 pairs committed under tests/fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from api_support import BATCH_BUCKET

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


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    """AWS in this process (moto), with test credentials in us-east-1."""
    for name, value in (
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def batch_s3(aws):
    """A moto S3 client with the batch bucket (api_support.BATCH_BUCKET) created."""
    client = boto3.client("s3")
    client.create_bucket(Bucket=BATCH_BUCKET)
    return client


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere boto3 looks (environment, files, instance metadata)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it caches the credentials it found

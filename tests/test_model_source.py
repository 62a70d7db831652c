"""Model from S3 (moto): good object, checksum mismatch, missing object, cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient

from api_support import TINY_TFLITE
from lesion_api.main import create_app
from lesion_api.settings import Settings

BUCKET, KEY = "lesion-models", "unet/v1/unet.tflite"
SHA256 = hashlib.sha256(TINY_TFLITE.read_bytes()).hexdigest()


@pytest.fixture
def s3(aws):
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key=KEY, Body=TINY_TFLITE.read_bytes())
    return client


def settings(tmp_path: Path, key: str = KEY, sha256: str | None = SHA256) -> Settings:
    return Settings(
        model_uri=f"s3://{BUCKET}/{key}",
        model_sha256=sha256,
        model_cache_dir=tmp_path / "cache",
        model_path=tmp_path / "absent.tflite",
    )


def test_good_object_is_downloaded_verified_and_cached(s3, tmp_path: Path) -> None:
    health = TestClient(create_app(settings(tmp_path))).get("/health").json()
    assert health["status"] == "ok"
    assert health["model"]["sha256"] == SHA256
    assert health["model"]["source"] == f"s3://{BUCKET}/{KEY}"
    assert (tmp_path / "cache" / SHA256 / "model.tflite").read_bytes() == TINY_TFLITE.read_bytes()
    s3.delete_object(Bucket=BUCKET, Key=KEY)  # a warm restart reuses the verified cache
    assert TestClient(create_app(settings(tmp_path))).get("/health").json()["status"] == "ok"


def test_checksum_mismatch_fails_start_up_clearly(s3, tmp_path: Path) -> None:
    response = TestClient(create_app(settings(tmp_path, sha256="ab" * 32))).get("/health")
    assert response.status_code == 503
    assert "checksum mismatch" in response.json()["error"]
    assert not (tmp_path / "cache").exists()


def test_missing_object_fails_start_up_clearly(s3, tmp_path: Path) -> None:
    response = TestClient(create_app(settings(tmp_path, key="nope.tflite"))).get("/health")
    assert response.status_code == 503
    assert "NoSuchKey" in response.json()["error"]


def test_malformed_uri_is_reported(tmp_path: Path) -> None:
    bad = Settings(model_uri="https://example.invalid/model.tflite", model_cache_dir=tmp_path)
    assert "s3://bucket/key" in TestClient(create_app(bad)).get("/health").json()["error"]

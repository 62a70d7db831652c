"""Where the served model comes from: the baked-in file, or S3 verified by sha256."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from urllib.parse import urlparse

from lesion_api.settings import Settings

log = logging.getLogger(__name__)


class ModelSourceError(RuntimeError):
    """The model cannot be fetched or does not match its expected checksum."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verify(data: bytes, expected: str | None, source: str) -> None:
    if expected and sha256_of(data) != expected.lower():
        raise ModelSourceError(
            f"checksum mismatch for {source}: expected sha256 {expected}, got {sha256_of(data)}"
        )


def _from_s3(uri: str, cache_dir: Path, expected: str | None) -> bytes:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise ModelSourceError(f"MODEL_URI must look like s3://bucket/key, got {uri!r}")
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    # Only a checksummed model is cached: the checksum is its name and is re-verified on reuse.
    cached = cache_dir / expected.lower() / "model.tflite" if expected else None
    if expected and cached and cached.exists():
        data = cached.read_bytes()
        if sha256_of(data) == expected.lower():
            return data
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        data = bytes(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise ModelSourceError(f"cannot read {uri}: {code}") from error
    except BotoCoreError as error:
        raise ModelSourceError(f"cannot read {uri}: {error}") from error
    _verify(data, expected, uri)
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
    log.info("model downloaded from %s (%d bytes)", uri, len(data))
    return data


def load_model_bytes(settings: Settings) -> tuple[bytes, str]:
    """Return (model bytes, where they came from: the s3:// URI or the file's name, never a
    local path); ModelSourceError says what went wrong."""
    if settings.model_uri:
        return _from_s3(settings.model_uri, settings.model_cache_dir, settings.model_sha256), (
            settings.model_uri
        )
    path = settings.model_path
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelSourceError(f"cannot read model file {path.name}: {error.strerror}") from error
    _verify(data, settings.model_sha256, path.name)
    return data, path.name

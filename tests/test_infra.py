"""infra/: deploy helpers against moto, and the API template through cfn-lint alone."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import boto3
import pytest

from infra import deploy

ROOT = Path(__file__).parent.parent
MODEL = ROOT / "tests" / "fixtures" / "models" / "unet_tiny_int8.tflite"


def test_ecr_repositories_are_created_once(aws) -> None:
    first = deploy.ensure_repositories(["lesion-api", "lesion-ui"])
    again = deploy.ensure_repositories(["lesion-api", "lesion-ui"])
    assert first == again
    assert first["lesion-ui"].endswith(".amazonaws.com/lesion-ui")
    repos = boto3.client("ecr").describe_repositories()["repositories"]
    assert sorted(r["repositoryName"] for r in repos) == ["lesion-api", "lesion-ui"]


def test_model_upload_carries_its_sha256(aws) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="models-bucket")
    sha256 = deploy.upload_model(MODEL, "models-bucket", "unet/v1.tflite")
    assert sha256 == hashlib.sha256(MODEL.read_bytes()).hexdigest()
    head = s3.head_object(Bucket="models-bucket", Key="unet/v1.tflite")
    assert head["Metadata"]["sha256"] == sha256
    body = s3.get_object(Bucket="models-bucket", Key="unet/v1.tflite")["Body"].read()
    assert body == MODEL.read_bytes()


def test_sam_parameters_come_from_the_object(aws) -> None:
    boto3.client("s3").create_bucket(Bucket="lesion-models")
    sha256 = deploy.upload_model(MODEL, "lesion-models", "k.tflite")
    assert deploy.sam_parameters("lesion-models", "k.tflite", "https://ui.example") == [
        "ModelBucket=lesion-models",
        "ModelKey=k.tflite",
        f"ModelSha256={sha256}",
        "CorsOrigins=https://ui.example",
    ]


def test_sam_parameters_refuse_an_object_without_checksum(aws) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="lesion-models")
    s3.put_object(Bucket="lesion-models", Key="k", Body=b"x")
    with pytest.raises(SystemExit, match="no sha256 metadata"):
        deploy.sam_parameters("lesion-models", "k", None)


def test_cli_prints_the_sam_command(aws, capsys) -> None:
    boto3.client("s3").create_bucket(Bucket="lesion-models")
    deploy.main(["upload-model", "--bucket", "lesion-models", "--model", str(MODEL)])
    deploy.main(["sam-params", "--bucket", "lesion-models"])
    out = capsys.readouterr().out
    assert (
        "sam deploy --parameter-overrides ModelBucket=lesion-models ModelKey=models/unet.tflite"
        in out
    )


def test_the_api_template_passes_cfn_lint() -> None:
    template = "template.yaml"
    cfn_lint = ROOT / ".venv-sam" / "bin" / "cfn-lint"
    if not cfn_lint.exists():
        pytest.fail("cfn-lint not found: run `make setup` (installs aws-sam-cli in .venv-sam)")
    result = subprocess.run(
        [str(cfn_lint), template], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr

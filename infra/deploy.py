"""Deploy helpers (boto3): ECR repositories, the model in S3 with its sha256, sam parameters.

python -m infra.deploy ecr-repos [--names lesion-api lesion-ui]
python -m infra.deploy upload-model --bucket BUCKET [--key KEY] [--model models/unet.tflite]
python -m infra.deploy sam-params --bucket BUCKET --key KEY [--cors-origin https://ui...]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import shlex
import sys
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

DEFAULT_REPOSITORIES = ("lesion-api", "lesion-ui")
DEFAULT_KEY = "models/unet.tflite"


def ensure_repositories(names: list[str], ecr=None) -> dict[str, str]:
    """Create the ECR repositories that do not exist yet (scan on push); {name: URI}."""
    ecr = ecr or boto3.client("ecr")
    uris = {}
    for name in names:
        try:
            repository = ecr.create_repository(
                repositoryName=name,
                imageScanningConfiguration={"scanOnPush": True},
                imageTagMutability="MUTABLE",
            )["repository"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "RepositoryAlreadyExistsException":
                raise
            repository = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        uris[name] = repository["repositoryUri"]
    return uris


def upload_model(model: Path, bucket: str, key: str, s3=None) -> str:
    """Upload the model with its sha256 as object metadata (and S3's own checksum); return it."""
    s3 = s3 or boto3.client("s3")
    data = model.read_bytes()
    digest = hashlib.sha256(data)
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=data,
        Metadata={"sha256": digest.hexdigest()},
        ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
        ServerSideEncryption="AES256",
    )
    return digest.hexdigest()


def sam_parameters(bucket: str, key: str, cors_origin: str | None, s3=None) -> list[str]:
    """`sam deploy --parameter-overrides` entries for a model in S3 (sha256 read from it)."""
    s3 = s3 or boto3.client("s3")
    sha256 = s3.head_object(Bucket=bucket, Key=key)["Metadata"].get("sha256")
    if not sha256:
        raise SystemExit(f"s3://{bucket}/{key} has no sha256 metadata: upload it with upload-model")
    overrides = [f"ModelBucket={bucket}", f"ModelKey={key}", f"ModelSha256={sha256}"]
    if cors_origin:
        overrides.append(f"CorsOrigins={cors_origin}")
    return overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.deploy", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    repos = commands.add_parser("ecr-repos", help="create the ECR repositories")
    repos.add_argument("--names", nargs="+", default=list(DEFAULT_REPOSITORIES))
    upload = commands.add_parser("upload-model", help="upload the model with its sha256")
    upload.add_argument("--bucket", required=True)
    upload.add_argument("--key", default=DEFAULT_KEY)
    upload.add_argument("--model", type=Path, default=Path("models/unet.tflite"))
    params = commands.add_parser("sam-params", help="print sam deploy parameter overrides")
    params.add_argument("--bucket", required=True)
    params.add_argument("--key", default=DEFAULT_KEY)
    params.add_argument("--cors-origin", help="the UI's URL (App Runner UiUrl)")
    args = parser.parse_args(argv)

    if args.command == "ecr-repos":
        for name, uri in ensure_repositories(args.names).items():
            print(f"{name}\t{uri}")
    elif args.command == "upload-model":
        sha256 = upload_model(args.model, args.bucket, args.key)
        print(f"s3://{args.bucket}/{args.key}\tsha256 {sha256}")
    else:
        overrides = sam_parameters(args.bucket, args.key, args.cors_origin)
        print("sam deploy --parameter-overrides " + " ".join(shlex.quote(o) for o in overrides))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Deploy helpers (boto3): ECR repositories, the model in S3 with its sha256, sam parameters, the
UI on ECS Fargate behind a load balancer (infra/ui-ecs.yaml), wired to the API both ways, and the
on-device app on S3 + CloudFront (infra/edge-site.yaml) with the headers of edge/headers.json.

python -m infra.deploy ecr-repos [--names lesion-api lesion-ui]
python -m infra.deploy upload-model --bucket BUCKET [--key KEY] [--model models/unet.tflite]
python -m infra.deploy sam-params --bucket BUCKET --key KEY [--cors-origin https://ui...]
python -m infra.deploy ui [--api-stack lesion-segmentation] [--stack lesion-ui] [--image URI]
        [--certificate-arn ARN --domain ui.example.org] [--parameter KEY=VALUE ...]
python -m infra.deploy edge [--stack lesion-edge] [--site build/edge]
        [--certificate-arn ARN --domain app.example.org]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

from infra import edge_headers
from segcore.paths import DEPLOYED_MODEL

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REPOSITORIES = ("lesion-api", "lesion-ui")
DEFAULT_KEY = "models/unet.tflite"
UI_TEMPLATE = ROOT / "infra" / "ui-ecs.yaml"
UI_REPOSITORY = "lesion-ui"
EDGE_TEMPLATE = ROOT / "infra" / "edge-site.yaml"
EDGE_SITE = ROOT / "build" / "edge"
# The label devtools/offline_bases.py puts on its stand-in base images (inherited by any image
# built on them): such an image must never be deployed.
STANDIN_LABEL = "org.lesion-segmentation.offline-standin"
DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
}


class DeployError(RuntimeError):
    """A deployment step failed for a reason the user can act on."""


def ensure_repositories(names: list[str], ecr: Any = None) -> dict[str, str]:
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


def upload_model(model: Path, bucket: str, key: str, s3: Any = None) -> str:
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


def sam_parameters(bucket: str, key: str, cors_origin: str | None, s3: Any = None) -> list[str]:
    """`sam deploy --parameter-overrides` entries for a model in S3 (sha256 read from it)."""
    s3 = s3 or boto3.client("s3")
    sha256 = s3.head_object(Bucket=bucket, Key=key)["Metadata"].get("sha256")
    if not sha256:
        raise SystemExit(f"s3://{bucket}/{key} has no sha256 metadata: upload it with upload-model")
    overrides = [f"ModelBucket={bucket}", f"ModelKey={key}", f"ModelSha256={sha256}"]
    if cors_origin:
        overrides.append(f"CorsOrigins={cors_origin}")
    return overrides


def stack_outputs(name: str, cfn: Any = None) -> dict[str, str]:
    """A CloudFormation stack's outputs, {key: value}."""
    cfn = cfn or boto3.client("cloudformation")
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in error.response["Error"]["Message"]:
            raise DeployError(f"stack {name} not found in this account and region") from error
        raise
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def deploy_stack(
    name: str, template: Path, parameters: dict[str, str], cfn: Any = None
) -> dict[str, str]:
    """Create the stack or update it in place, wait until it is done; return its outputs."""
    cfn = cfn or boto3.client("cloudformation")
    request = {
        "StackName": name,
        "TemplateBody": template.read_text(),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": ["CAPABILITY_IAM"],
    }
    try:
        stack_outputs(name, cfn)
    except DeployError:
        cfn.create_stack(**request, OnFailure="ROLLBACK")
        waiter = "stack_create_complete"
    else:
        try:
            cfn.update_stack(**request)
        except ClientError as error:
            if "No updates are to be performed" not in error.response["Error"]["Message"]:
                raise
            return stack_outputs(name, cfn)
        waiter = "stack_update_complete"
    cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 15, "MaxAttempts": 160})
    return stack_outputs(name, cfn)


def set_api_cors_origin(api_stack: str, origin: str, cfn: Any = None) -> None:
    """Make `origin` the API stack's only CORS origin; every other parameter keeps its value."""
    cfn = cfn or boto3.client("cloudformation")
    stack = cfn.describe_stacks(StackName=api_stack)["Stacks"][0]
    previous = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    if "CorsOrigins" not in previous:
        raise DeployError(f"stack {api_stack} has no CorsOrigins parameter: is it the API's?")
    if previous["CorsOrigins"] == origin:
        return
    parameters = [
        {"ParameterKey": key, "UsePreviousValue": True} for key in previous if key != "CorsOrigins"
    ]
    parameters.append({"ParameterKey": "CorsOrigins", "ParameterValue": origin})
    cfn.update_stack(
        StackName=api_stack,
        UsePreviousTemplate=True,
        Parameters=parameters,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cfn.get_waiter("stack_update_complete").wait(
        StackName=api_stack, WaiterConfig={"Delay": 15, "MaxAttempts": 80}
    )


def ecr_credentials(ecr: Any = None) -> tuple[str, str, str]:
    """(user, password, registry URL) for `docker login` to this account's ECR."""
    ecr = ecr or boto3.client("ecr")
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    return user, password, data["proxyEndpoint"]


def docker(*args: str, stdin: str | None = None) -> str:
    """Run a docker command; its output, or a DeployError with docker's message."""
    try:
        done = subprocess.run(["docker", *args], input=stdin, text=True, capture_output=True)
    except FileNotFoundError as error:
        raise DeployError("docker not found: building the UI image needs Docker") from error
    if done.returncode != 0:
        raise DeployError(f"docker {args[0]} failed: {done.stderr.strip()[-1000:]}")
    return done.stdout


def push_ui_image(repository_uri: str, tag: str, ecr: Any = None) -> str:
    """Build ui/Dockerfile, push it to the repository; return the image URI."""
    user, password, registry = ecr_credentials(ecr)
    docker("login", "--username", user, "--password-stdin", registry, stdin=password)
    image = f"{repository_uri}:{tag}"
    dockerfile = str(ROOT / "ui" / "Dockerfile")
    docker("build", "--platform", "linux/amd64", "-f", dockerfile, "-t", image, str(ROOT))
    if STANDIN_LABEL in docker("image", "inspect", "-f", "{{json .Config.Labels}}", image):
        raise DeployError(
            "the UI image was built on an offline stand-in base (devtools/offline_bases.py): "
            "remove the stand-ins (docker rmi python:3.12-slim) and build on the real base"
        )
    docker("push", image)
    return image


def deploy_ui(
    api_stack: str, stack: str, image: str | None, tag: str, parameters: dict[str, str]
) -> str:
    """The UI in front of the API stack's URL, and the API's CORS origin set to the UI's URL."""
    api_url = stack_outputs(api_stack).get("ApiUrl")
    if not api_url:
        raise DeployError(f"stack {api_stack} has no ApiUrl output: is it the API's?")
    if image is None:
        repository = ensure_repositories([UI_REPOSITORY])[UI_REPOSITORY]
        image = push_ui_image(repository, tag)
    outputs = deploy_stack(
        stack, UI_TEMPLATE, {"UiImageUri": image, "ApiUrl": api_url, **parameters}
    )
    set_api_cors_origin(api_stack, outputs["UiUrl"])
    return outputs["UiUrl"]


@dataclass(frozen=True)
class SiteFile:
    """One file of the on-device app and the headers S3 serves it with."""

    key: str
    path: Path
    content_type: str
    cache_control: str


def _refuse_links_out(path: Path, root: Path) -> None:
    """Only a link to a file inside the site is followed (not to a folder, nowhere or outside)."""
    if path.is_symlink():
        target = path.resolve()
        if not (target.is_file() and target.is_relative_to(root)):
            raise DeployError(f"{path} links to {target}: only links to files of the site count")


def site_files(site: Path) -> list[SiteFile]:
    """Every file of the built site with its Content-Type and Cache-Control (edge/headers.json);
    refuses a site not built, a link out of it, and a suffix without a listed Content-Type."""
    if not site.is_dir():
        raise DeployError(f"{site} not found: run `make edge` first (it builds the app there)")
    if not (site / "index.html").is_file():
        raise DeployError(f"{site} has no index.html: run `make edge` first")
    root = site.resolve()
    files, unknown = [], []
    for folder, subfolders, names in os.walk(root):
        for name in (*subfolders, *names):
            _refuse_links_out(Path(folder, name), root)
        for name in names:
            path = Path(folder, name)
            key = path.relative_to(root).as_posix()
            content_type = edge_headers.content_type(key)
            if content_type is None:
                unknown.append(key)
                continue
            files.append(SiteFile(key, path, content_type, edge_headers.cache_control(key)))
    if unknown:
        raise DeployError(
            f"no Content-Type for {', '.join(sorted(unknown))}: add the suffix to content_types"
            " in edge/headers.json (S3 would otherwise guess)"
        )
    return files


def sync_site(files: list[SiteFile], bucket: str, s3: Any = None) -> list[str]:
    """Upload the site's files with their headers (pages last, after what they load), delete the
    objects no longer in it; return the deleted keys."""
    s3 = s3 or boto3.client("s3")
    for file in sorted(files, key=lambda f: (f.key.endswith(".html"), f.key)):
        data = file.path.read_bytes()
        s3.put_object(
            Bucket=bucket,
            Key=file.key,
            Body=data,
            ContentType=file.content_type,
            CacheControl=file.cache_control,
            ChecksumSHA256=base64.b64encode(hashlib.sha256(data).digest()).decode(),
        )
    kept = {file.key for file in files}
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    stale = [o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"] not in kept]
    for start in range(0, len(stale), 1000):
        batch = [{"Key": key} for key in stale[start : start + 1000]]
        response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        if response.get("Errors"):
            raise DeployError(f"could not delete from {bucket}: {response['Errors'][:3]}")
    return stale


def invalidate(distribution_id: str, cloudfront: Any = None) -> str:
    """Have CloudFront drop every cached path ("/*") (in a minute or two); the invalidation id."""
    cloudfront = cloudfront or boto3.client("cloudfront")
    invalidation = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"infra.deploy-{time.time_ns()}",
        },
    )["Invalidation"]
    return str(invalidation["Id"])


def deploy_edge(stack: str, site: Path, parameters: dict[str, str]) -> tuple[str, list[str]]:
    """The site checked, its stack deployed, its files synced, CloudFront's cache dropped;
    (the site's URL, the stale keys deleted)."""
    files = site_files(site)
    outputs = deploy_stack(stack, EDGE_TEMPLATE, parameters)
    deleted = sync_site(files, outputs["BucketName"])
    invalidate(outputs["DistributionId"])
    return outputs["SiteUrl"], deleted


def key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def explain(error: Exception) -> str:
    """What went wrong, in words a user can act on."""
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials found: run `aws configure`, or set AWS_PROFILE or AWS_ACCESS_KEY_ID"
        )
    if isinstance(error, NoRegionError):
        return "no AWS region set: export AWS_REGION (e.g. us-east-1)"
    if isinstance(error, ClientError):
        code = error.response["Error"]["Code"]
        message = error.response["Error"].get("Message", "")
        if (
            code in DENIED
            or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403
        ):
            return f"permission denied for {error.operation_name}: {message}"
        return f"{error.operation_name} failed ({code}): {message}"
    return str(error)


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
    upload.add_argument("--model", type=Path, default=DEPLOYED_MODEL)
    params = commands.add_parser("sam-params", help="print sam deploy parameter overrides")
    params.add_argument("--bucket", required=True)
    params.add_argument("--key", default=DEFAULT_KEY)
    params.add_argument("--cors-origin", help="the UI's URL (the UI stack's UiUrl)")
    ui = commands.add_parser("ui", help="deploy the UI on ECS and point the API's CORS at it")
    ui.add_argument("--api-stack", default="lesion-segmentation", help="the SAM stack")
    ui.add_argument("--stack", default="lesion-ui")
    ui.add_argument("--image", help="a UI image already in ECR (skips docker build and push)")
    ui.add_argument("--tag", default=time.strftime("%Y%m%d-%H%M%S"), help="tag of the pushed image")
    ui.add_argument(
        "--certificate-arn", default="", help="ACM certificate: HTTPS on 443 (required)"
    )
    ui.add_argument(
        "--insecure-plain-http",
        action="store_true",
        help="DANGER, for a trial only: no certificate, plain HTTP on 80; uploaded images cross"
        " the internet unencrypted",
    )
    ui.add_argument("--domain", default="", help="the certificate's domain, pointed at the LB")
    ui.add_argument(
        "--parameter", type=key_value, action="append", default=[], metavar="KEY=VALUE",
        help="any other infra/ui-ecs.yaml parameter (SignIn, Cpu, DesiredCount, ...)",
    )  # fmt: skip
    edge = commands.add_parser("edge", help="host the on-device app on S3 + CloudFront")
    edge.add_argument("--stack", default="lesion-edge")
    edge.add_argument("--site", type=Path, default=EDGE_SITE, help="the site `make edge` built")
    edge.add_argument("--certificate-arn", default="", help="ACM certificate (us-east-1)")
    edge.add_argument(
        "--domain", default="", help="the certificate's domain (a CNAME to CloudFront)"
    )
    args = parser.parse_args(argv)
    try:
        return run_command(args)
    except (DeployError, NoCredentialsError, NoRegionError, ClientError) as error:
        print(f"error: {explain(error)}", file=sys.stderr)
        return 2


def run_command(args: argparse.Namespace) -> int:
    if args.command == "edge":
        if bool(args.certificate_arn) != bool(args.domain):
            raise DeployError("--certificate-arn and --domain go together (a certificate for it)")
        parameters = {"CertificateArn": args.certificate_arn, "DomainName": args.domain}
        url, deleted = deploy_edge(args.stack, args.site, parameters)
        print(f"on-device app: {url}  ({len(deleted)} stale files deleted)")
        print("CloudFront's cache is invalidated: the new files are served within a minute or two")
    elif args.command == "ui":
        parameters = dict(args.parameter)
        if args.certificate_arn:
            parameters["CertificateArn"] = args.certificate_arn
        if args.insecure_plain_http:
            parameters["InsecurePlainHttp"] = "true"
        if not parameters.get("CertificateArn") and parameters.get("InsecurePlainHttp") != "true":
            raise DeployError(
                "the UI needs HTTPS: give --certificate-arn (an ACM certificate for --domain), or"
                " --insecure-plain-http for a trial whose uploads cross the internet unencrypted"
            )
        if args.domain:
            parameters["DomainName"] = args.domain
        url = deploy_ui(args.api_stack, args.stack, args.image, args.tag, parameters)
        print(f"UI: {url}  (the API {args.api_stack} now allows CORS from it only)")
        print(
            f"so that a later `sam deploy` keeps it, add CorsOrigins={url} to parameter_overrides"
        )
    elif args.command == "ecr-repos":
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

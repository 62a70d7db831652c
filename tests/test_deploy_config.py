"""template.yaml passes both SAM validators and is safe by default (no wildcard CORS, reserved
concurrency, throttling, a pinned S3 model, optional access logs and authorizer), its REST API
passes binary uploads; the serving image installs no TensorFlow and builds without BuildKit;
compose runs the API image as a non-root user."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from cfn_support import failed_rules as rules_failing
from cfn_support import load_template, resolve, sam_translated

ROOT = Path(__file__).parent.parent
SAM = ROOT / ".venv-sam" / "bin" / "sam"


def sam(*args: str) -> subprocess.CompletedProcess:
    if not SAM.exists():
        pytest.fail("aws-sam-cli not found: run `make setup` (installs it in .venv-sam)")
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "AWS_ACCESS_KEY_ID": "none",
        "AWS_SECRET_ACCESS_KEY": "none",
    }
    return subprocess.run(
        [str(SAM), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env
    )


def test_sam_validate_translator() -> None:
    result = sam("validate", "--region", "us-east-1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_sam_validate_lint() -> None:
    result = sam("validate", "--lint", "--region", "us-east-1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_can_fail(tmp_path: Path) -> None:
    broken = (ROOT / "template.yaml").read_text().replace("MaxValue: 29", "MaxValue: oops")
    (tmp_path / "template.yaml").write_text(broken)
    result = sam(
        "validate", "--lint", "--region", "us-east-1", "--template", str(tmp_path / "template.yaml")
    )
    assert result.returncode != 0


def test_serving_image_has_no_tensorflow() -> None:
    serve = (ROOT / "requirements" / "serve.txt").read_text().lower()
    assert "tensorflow" not in re.sub(r"#.*", "", serve)
    dockerfile = (ROOT / "lambda" / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=public.ecr.aws/lambda/python:3.12" in dockerfile
    assert 'CMD ["lesion_api.handler.handler"]' in dockerfile
    # It installs serve.txt's lock (tests/test_locks.py), which holds no TensorFlow either.
    assert "COPY requirements/locks/serve-*.txt" in dockerfile
    serve_locks = sorted((ROOT / "requirements" / "locks").glob("serve-*.txt"))
    assert serve_locks
    for lock in serve_locks:
        assert "tensorflow" not in re.sub(r"#.*", "", lock.read_text().lower()), lock.name


@pytest.mark.parametrize(
    "dockerfile", ["lambda/Dockerfile", "ui/Dockerfile", "infra/local-s3/Dockerfile"]
)
def test_images_build_without_buildkit(dockerfile: str) -> None:
    """`sam build` uses docker-py's classic builder: no RUN --mount (or other BuildKit syntax),
    and the opt-in pip CA bundle stays in a build stage the final image never copies."""
    text = (ROOT / dockerfile).read_text()
    assert "--mount" not in text and "# syntax=" not in text
    stages = text.split("\nFROM ")
    assert len(stages) == 3, "a build stage and the final image"
    assert "pip-ca" in stages[1] and "pip-ca" not in stages[2].split("\n", 1)[1]


def test_serving_code_never_imports_tensorflow() -> None:
    code = (
        "import sys, lesion_api.handler; "
        "bad = [m for m in ('tensorflow', 'keras', 'train', 'convert') if m in sys.modules]; "
        "assert not bad, bad"
    )
    env = {
        **os.environ,
        "MODEL_PATH": str(ROOT / "tests/fixtures/models/unet_tiny_int8.tflite"),
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "lambda",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]


# --- template.yaml: what it says, and what SAM makes of it ---------------------------------------


@cache
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def failed_rules(**overrides: str) -> list[str]:
    """The AssertDescriptions CloudFormation would refuse a deployment with."""
    return rules_failing(template(), **overrides)


def api_body(**overrides: str) -> dict[str, Any]:
    """The OpenAPI body CloudFormation would import for these parameter values."""
    tpl = sam_translated()
    return resolve(tpl["Resources"]["RestApi"]["Properties"]["Body"], tpl, **overrides)


def routes(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The two routes everything goes through: "/" and "/{proxy+}", any method."""
    return [body["paths"][path]["x-amazon-apigateway-any-method"] for path in ("/", "/{proxy+}")]


def function_env(**overrides: str) -> dict[str, str]:
    tpl = sam_translated()
    function = resolve(tpl["Resources"]["SegmentationFunction"]["Properties"], tpl, **overrides)
    return function["Environment"]["Variables"]


def test_rest_api_passes_binary_uploads_and_masks() -> None:
    """`sam local start-api` and API Gateway pass multipart uploads intact only to a REST API
    with these binary media types, and send PNG masks back as binary."""
    body = api_body()
    assert {"multipart/form-data", "image/png"} <= set(
        body["x-amazon-apigateway-binary-media-types"]
    )
    resources = sam_translated()["Resources"]
    stages = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert [s["Properties"]["StageName"] for s in stages] == ["prod"], "one stage, no extra 'Stage'"
    assert "/prod/" in json.dumps(sam_translated()["Outputs"]["ApiUrl"])


def test_every_route_reaches_the_function_and_is_throttled() -> None:
    for route in routes(api_body()):
        integration = route["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy" and integration["httpMethod"] == "POST"
    pool = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"
    for auth in ({}, {"AuthType": "AWS_IAM"}, {"AuthType": "COGNITO", "CognitoUserPoolArn": pool}):
        for path, methods in api_body(**auth)["paths"].items():
            preflight = methods["options"]
            assert "security" not in preflight, f"{path}: a preflight carries no credentials"
            assert preflight["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
    tpl = sam_translated()
    (stage,) = (r for r in tpl["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage")
    (settings,) = resolve(stage["Properties"]["MethodSettings"], tpl, ThrottlingRateLimit="7")
    assert settings["ResourcePath"] == "/*" and settings["HttpMethod"] == "*"
    assert settings["ThrottlingRateLimit"] == "7"


def test_cors_is_off_unless_origins_are_given() -> None:
    """The function answers CORS itself (a REST proxy passes its headers through)."""
    from lesion_api.settings import Settings

    parameter = template()["Parameters"]["CorsOrigins"]
    assert parameter.get("Default") == "", "no wildcard (or any) default origin"
    assert "Cors" not in template()["Resources"]["RestApi"]["Properties"]
    assert function_env()["CORS_ORIGINS"] == "[]"
    given = function_env(CorsOrigins="https://ui.example,https://ui2.example")["CORS_ORIGINS"]
    os.environ["CORS_ORIGINS"] = given
    try:
        origins = Settings().cors_origins
    finally:
        del os.environ["CORS_ORIGINS"]
    assert origins == ["https://ui.example", "https://ui2.example"]


def test_reserved_concurrency_is_finite_by_default() -> None:
    parameter = template()["Parameters"]["ReservedConcurrency"]
    assert int(parameter["Default"]) >= 1
    tpl = sam_translated()
    function = tpl["Resources"]["SegmentationFunction"]["Properties"]
    assert resolve(function, tpl)["ReservedConcurrentExecutions"] == str(parameter["Default"])
    assert resolve(function, tpl, ReservedConcurrency="3")["ReservedConcurrentExecutions"] == "3"
    assert "ReservedConcurrentExecutions" not in resolve(function, tpl, ReservedConcurrency="-1")


def test_an_s3_model_needs_its_key_and_sha256() -> None:
    rules = json.dumps(template()["Rules"])
    assert "ModelSha256" in rules and "ModelBucket" in rules
    sha256 = "0" * 64
    assert failed_rules() == []
    assert failed_rules(ModelBucket="b", ModelKey="k", ModelSha256=sha256) == []
    missing = failed_rules(ModelBucket="b", ModelKey="k")
    assert len(missing) == 1 and "ModelSha256" in missing[0]
    assert any("ModelKey" in f for f in failed_rules(ModelBucket="b", ModelSha256=sha256))


def test_api_access_logs_are_json_lines_without_bodies() -> None:
    """Off by default (a REST API logs only once the account has API Gateway's CloudWatch role)."""
    tpl = sam_translated()
    (stage,) = (r for r in tpl["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage")
    assert "AccessLogSetting" not in resolve(stage["Properties"], tpl)
    settings = resolve(stage["Properties"], tpl, AccessLogs="ON")["AccessLogSetting"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(settings["Format"])
    assert set(fields) == {
        "requestId",
        "ip",
        "requestTime",
        "httpMethod",
        "resourcePath",
        "status",
        "responseLength",
        "integrationLatency",
    }
    assert all(v.startswith("$context.") for v in fields.values())
    assert not re.search(r"body|header|authorizer", settings["Format"], re.IGNORECASE)
    group = tpl["Resources"]["ApiAccessLogGroup"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_authorizer_follows_auth_type() -> None:
    parameters = template()["Parameters"]
    assert parameters["AuthType"]["Default"] == "NONE"
    assert parameters["AuthType"]["AllowedValues"] == ["NONE", "AWS_IAM", "COGNITO"]

    open_api = api_body()
    assert all("security" not in route for route in routes(open_api))
    assert "components" not in open_api

    iam = api_body(AuthType="AWS_IAM")
    assert all(route["security"] == [{"AWS_IAM": []}] for route in routes(iam))
    scheme = iam["components"]["securitySchemes"]["AWS_IAM"]
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"

    pool = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"
    cognito = api_body(AuthType="COGNITO", CognitoUserPoolArn=pool)
    assert all(route["security"] == [{"CognitoAuthorizer": []}] for route in routes(cognito))
    authorizer = cognito["components"]["securitySchemes"]["CognitoAuthorizer"][
        "x-amazon-apigateway-authorizer"
    ]
    assert authorizer == {"type": "cognito_user_pools", "providerARNs": [pool]}

    # Every mode keeps the Lambda integration that SAM adds to both routes.
    for body in (open_api, iam, cognito):
        assert all(route["x-amazon-apigateway-integration"] for route in routes(body))

    assert failed_rules(AuthType="COGNITO", CognitoUserPoolArn=pool) == []
    assert len(failed_rules(AuthType="COGNITO")) == 1, "COGNITO needs a user pool"


# --- docker-compose.yml --------------------------------------------------------------------------


def test_compose_runs_the_api_image_as_non_root() -> None:
    package = pytest.importorskip("compose")
    binary = Path(package.__file__).parent / "docker-compose"
    result = subprocess.run(
        [str(binary), "--profile", "s3", "config", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    api_image = [name for name, svc in services.items() if svc.get("image") == "lesion-api:latest"]
    assert {"api", "api-s3", "s3-seed"} <= set(api_image)
    for name in api_image:
        user = str(services[name].get("user", ""))
        uid = user.split(":")[0]
        assert uid and uid not in ("0", "root"), f"{name} runs as root"
    for name in ("api", "api-s3"):
        assert services[name]["read_only"] is True
        assert "/tmp" in services[name]["tmpfs"], f"{name}: /tmp must stay writable"


# --- the batch function ----------------------------------------------------------------------


def test_batch_reads_incoming_writes_results_and_nothing_else() -> None:
    tpl = sam_translated()
    resources = tpl["Resources"]
    role = resolve(resources["BatchFunctionRole"]["Properties"], tpl)
    s3_statements = [
        s
        for policy in role["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
        if any(
            str(a).startswith("s3:")
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
    ]
    assert [(s["Action"], s["Resource"]) for s in s3_statements] == [
        ("s3:GetObject", {"Fn::Sub": "${BatchBucket.Arn}/incoming/*"}),
        ("s3:PutObject", {"Fn::Sub": "${BatchBucket.Arn}/results/*"}),
    ]
    function = resolve(resources["BatchFunction"]["Properties"], tpl)
    assert function["ImageConfig"]["Command"] == ["lesion_api.batch.handler"]
    limit = resolve(resources["BatchFunction"]["Properties"], tpl, BatchMaxObjectMB="80")
    assert limit["Environment"]["Variables"]["BATCH_MAX_OBJECT_BYTES"] == "80000000"


def test_batch_takes_messages_from_its_one_queue_only() -> None:
    tpl = sam_translated()
    resources = tpl["Resources"]
    function = resources["BatchFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["BatchFunctionRole", "Arn"]}
    role = resolve(resources["BatchFunctionRole"]["Properties"], tpl, ModelBucket="models")
    assert "ManagedPolicyArns" not in role, "no account-wide AWSLambdaSQSQueueExecutionRole"
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert all(s["Resource"] != "*" for s in statements)
    sqs = [s for s in statements if str(s["Action"][0]).startswith("sqs:")]
    assert [(sorted(s["Action"]), s["Resource"]) for s in sqs] == [
        (
            ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            {"Fn::GetAtt": ["BatchQueue", "Arn"]},
        )
    ]
    assert len(role["Policies"]) == 2, "the model bucket's read, when there is one"
    assert len(resolve(resources["BatchFunctionRole"]["Properties"], tpl)["Policies"]) == 1


def test_only_the_batch_bucket_may_send_to_the_queue() -> None:
    tpl = template()
    stack = {"AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1a2b-3c4d"}
    bucket = resolve(tpl["Resources"]["BatchBucket"]["Properties"], tpl, **stack)
    (statement,) = tpl["Resources"]["BatchQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    condition = resolve(statement["Condition"], tpl, **stack)
    assert condition["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source = condition["ArnEquals"]["aws:SourceArn"]
    assert source == "arn:${AWS::Partition}:s3:::" + bucket["BucketName"]
    assert bucket["BucketName"] == "lesion-batch-${AWS::AccountId}-1a2b-3c4d"


def test_batch_is_fed_by_a_queue_that_ends_in_a_dead_letter_queue() -> None:
    tpl = sam_translated()
    resources = tpl["Resources"]
    (mapping,) = (r for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping")
    mapping = resolve(mapping["Properties"], tpl, BatchSize="25", BatchConcurrency="7")
    assert mapping["BatchSize"] == "25"
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": "7"}, "no throttled receives"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["BatchQueue", "Arn"]}
    queue = resources["BatchQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["BatchDeadLetterQueue", "Arn"]
    }
    assert int(queue["VisibilityTimeout"]) >= 6 * int(
        template()["Parameters"]["BatchTimeout"]["MaxValue"]
    )
    bucket = resources["BatchBucket"]["Properties"]
    (notification,) = bucket["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "incoming/"}]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == {
        "Ref": "BatchRetentionDays"
    }

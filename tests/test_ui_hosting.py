"""infra/ui-ecs.yaml hosts the UI as Streamlit needs behind a load balancer, safely by default;
`python -m infra.deploy ui` deploys it (against moto) and points the API's CORS at it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core import set_initial_no_auth_action_count

from cfn_support import failed_rules, load_template, resolve
from infra import deploy

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "infra" / "ui-ecs.yaml"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lesion-ui:v1"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f8e6a3e-1111-2222-3333-444455556666"
# What the API stack (template.yaml, deployed by SAM) shows the helper: its parameters and ApiUrl.
# (CorsOrigins is a CommaDelimitedList there; moto would show such a value as a Python list.)
API_STACK = {
    "Parameters": {
        "CorsOrigins": {"Type": "String", "Default": ""},
        "ModelBucket": {"Type": "String", "Default": ""},
    },
    "Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}},
    "Outputs": {"ApiUrl": {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com/prod/"}},
}


def ui(**overrides: str) -> dict[str, Any]:
    """The template's resources as CloudFormation would create them for these parameters."""
    tpl = load_template(TEMPLATE)
    params = {"UiImageUri": IMAGE, "ApiUrl": "https://api.example/prod/", **overrides}
    conditions = {name: resolve(c, tpl, **params) for name, c in tpl["Conditions"].items()}
    return {
        name: resolve(r.get("Properties", {}), tpl, **params)
        for name, r in tpl["Resources"].items()
        if conditions.get(r.get("Condition", ""), True)
    }


def attributes(entries: list[dict[str, str]]) -> dict[str, str]:
    return {e["Key"]: str(e["Value"]) for e in entries}


# --- the template --------------------------------------------------------------------------


def test_streamlit_behind_the_load_balancer() -> None:
    resources = ui(InsecurePlainHttp="true")
    target = resources["TargetGroup"]
    assert target["HealthCheckPath"] == "/_stcore/health"
    assert (target["Port"], target["TargetType"]) == (8501, "ip")
    sticky = attributes(target["TargetGroupAttributes"])
    assert sticky["stickiness.enabled"] == "true" and sticky["stickiness.type"] == "lb_cookie"
    balancer = resources["LoadBalancer"]
    assert balancer["Type"] == "application", "ALB listeners pass websockets through"
    idle = int(attributes(balancer["LoadBalancerAttributes"])["idle_timeout.timeout_seconds"])
    assert idle >= 60, "a segmentation round trip (up to 29 s) must not be cut"
    (forward,) = resources["HttpListener"]["DefaultActions"]
    assert forward == {"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}
    # XSRF protection stays on: nothing in the image's command, its config or the task turns it
    # off.
    assert "xsrf" not in (ROOT / "ui" / "Dockerfile").read_text().lower()
    assert "xsrf" not in (ROOT / "ui" / ".streamlit" / "config.toml").read_text().lower()
    assert "xsrf" not in TEMPLATE.read_text().lower()


def test_the_image_carries_the_streamlit_config() -> None:
    """Streamlit reads .streamlit/config.toml beside the page: the image copies ui/ whole (the
    build context keeps it) and runs the page from there."""
    dockerfile = (ROOT / "ui" / "Dockerfile").read_text()
    assert "COPY ui/ /ui/" in dockerfile and "WORKDIR /ui" in dockerfile
    assert '"streamlit", "run", "app.py"' in dockerfile
    assert "!ui/" in (ROOT / ".dockerignore").read_text().splitlines()


def test_https_when_a_certificate_is_given() -> None:
    resources = ui(CertificateArn=CERT, DomainName="ui.example.org")
    (redirect,) = resources["HttpListener"]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"] == {
        "Protocol": "HTTPS",
        "Port": "443",
        "StatusCode": "HTTP_301",
    }
    https = resources["HttpsListener"]
    assert (https["Protocol"], https["Port"]) == ("HTTPS", 443)
    assert https["Certificates"] == [{"CertificateArn": CERT}]
    assert "TLS13" in https["SslPolicy"]
    assert [a["Type"] for a in https["DefaultActions"]] == ["forward"]
    assert "HttpsListener" not in ui(), "no HTTPS listener without a certificate"
    (plain,) = resources["LoadBalancerSecurityGroup"]["SecurityGroupIngress"]
    secure = resources["LoadBalancerHttps"]
    assert (plain["FromPort"], secure["FromPort"], secure["ToPort"]) == (80, 443, 443)


def test_https_is_required_unless_plain_http_is_asked_for_by_name() -> None:
    tpl = load_template(TEMPLATE)
    (refused,) = failed_rules(tpl)
    assert "HTTPS is required" in refused and "InsecurePlainHttp=true" in refused
    assert failed_rules(tpl, CertificateArn=CERT) == []
    assert failed_rules(tpl, InsecurePlainHttp="true") == []
    plain_http = ui(InsecurePlainHttp="true")
    (plain,) = plain_http["LoadBalancerSecurityGroup"]["SecurityGroupIngress"]
    assert plain["FromPort"] == 80
    assert "LoadBalancerHttps" not in plain_http, "no 443 open without an HTTPS listener"
    assert tpl["Parameters"]["ApiUrl"]["AllowedPattern"] == "^https://.+"
    assert not re.fullmatch(tpl["Parameters"]["ApiUrl"]["AllowedPattern"], "http://api.example/")


@pytest.mark.parametrize("certificate", ["", CERT])
def test_every_security_group_rule_says_what_it_is_for(certificate: str) -> None:
    resources = ui(CertificateArn=certificate, InsecurePlainHttp="true")
    rules = [
        rule
        for group in ("LoadBalancerSecurityGroup", "TaskSecurityGroup")
        for rule in resources[group]["SecurityGroupIngress"]
    ]
    rules += [r for r in resources.values() if "IpProtocol" in r]  # rules of their own
    assert len(rules) == (3 if certificate else 2)
    assert all(rule.get("Description") for rule in rules)


@pytest.mark.parametrize(
    ("sign_in", "action"), [("COGNITO", "authenticate-cognito"), ("OIDC", "authenticate-oidc")]
)
def test_optional_sign_in_before_the_ui(sign_in: str, action: str) -> None:
    https = ui(CertificateArn=CERT, SignIn=sign_in)["HttpsListener"]
    assert [a["Type"] for a in https["DefaultActions"]] == [action, "forward"]
    assert https["DefaultActions"][0]["Order"] < https["DefaultActions"][1]["Order"]
    tpl = load_template(TEMPLATE)
    assert any("CertificateArn" in f for f in failed_rules(tpl, SignIn=sign_in)), "needs HTTPS"
    assert len(failed_rules(tpl, SignIn=sign_in, CertificateArn=CERT)) == 1, "needs its settings"
    complete = {
        "COGNITO": {
            "CognitoUserPoolArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/x",
            "CognitoUserPoolClientId": "client",
            "CognitoUserPoolDomain": "lesion-ui",
        },
        "OIDC": {
            "OidcIssuer": "https://idp.example",
            "OidcAuthorizationEndpoint": "https://idp.example/auth",
            "OidcTokenEndpoint": "https://idp.example/token",
            "OidcUserInfoEndpoint": "https://idp.example/userinfo",
            "OidcClientId": "client",
            "OidcClientSecret": "secret",
        },
    }[sign_in]
    assert failed_rules(tpl, SignIn=sign_in, CertificateArn=CERT, **complete) == []
    assert failed_rules(tpl, CertificateArn=CERT) == []


def test_tasks_are_private_unprivileged_and_least_privileged() -> None:
    resources = ui()
    network = resources["Service"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    assert network["Subnets"] == [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}]
    ingress = resources["TaskSecurityGroup"]["SecurityGroupIngress"]
    assert ingress == [
        {
            "IpProtocol": "tcp",
            "FromPort": 8501,
            "ToPort": 8501,
            "SourceSecurityGroupId": {"Ref": "LoadBalancerSecurityGroup"},
            "Description": "Streamlit, from the load balancer",
        }
    ]
    (container,) = resources["TaskDefinition"]["ContainerDefinitions"]
    uid = re.search(r"useradd .*--uid (\d+)", (ROOT / "ui" / "Dockerfile").read_text())
    assert uid and container["User"] == uid.group(1) != "0"
    assert container["Environment"] == [{"Name": "API_URL", "Value": "https://api.example/prod/"}]
    assert "TaskRoleArn" not in resources["TaskDefinition"], "the UI needs no AWS permissions"
    statements = resources["ExecutionRole"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = {
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "ecr:GetAuthorizationToken",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    star = [s for s in statements if s["Resource"] == "*"]
    assert [s["Action"] for s in star] == ["ecr:GetAuthorizationToken"], "only that needs *"
    assert resources["LogGroup"]["RetentionInDays"] == "14"


def test_the_template_passes_cfn_lint() -> None:
    import subprocess

    cfn_lint = ROOT / ".venv-sam" / "bin" / "cfn-lint"
    if not cfn_lint.exists():
        pytest.fail("cfn-lint not found: run `make setup` (installs aws-sam-cli in .venv-sam)")
    done = subprocess.run(
        [str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- the deploy helper, against moto -----------------------------------------------------------


def api_stack(name: str = "lesion-segmentation", model_bucket: str = "models-bucket") -> None:
    boto3.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(API_STACK),
        Parameters=[{"ParameterKey": "ModelBucket", "ParameterValue": model_bucket}],
    )


def parameters(stack: str) -> dict[str, str]:
    described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in described["Parameters"]}


# moto cannot create a WaitConditionHandle (ListenersReady); it skips it, the rest is created.
@pytest.mark.filterwarnings("ignore:Tried to parse AWS")
def test_ui_deploy_wires_the_two_stacks_both_ways(aws, capsys) -> None:
    api_stack()
    assert deploy.main(["ui", "--image", IMAGE, "--insecure-plain-http"]) == 0
    ui_params = parameters("lesion-ui")
    assert ui_params["ApiUrl"] == API_STACK["Outputs"]["ApiUrl"]["Value"]
    assert ui_params["UiImageUri"] == IMAGE
    ui_url = deploy.stack_outputs("lesion-ui")["UiUrl"]
    assert ui_url.startswith("http://") and ".elb.amazonaws.com" in ui_url
    api_params = parameters("lesion-segmentation")
    assert api_params["CorsOrigins"] == ui_url, "the UI's URL, never *"
    assert api_params["ModelBucket"] == "models-bucket", "other API parameters keep their value"
    assert ui_url in capsys.readouterr().out

    # What moto built: the task definition (image, API URL) and the health-checked target group.
    ecs = boto3.client("ecs")
    (cluster,) = ecs.list_clusters()["clusterArns"]
    (service_arn,) = ecs.list_services(cluster=cluster)["serviceArns"]
    (service,) = ecs.describe_services(cluster=cluster, services=[service_arn])["services"]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    (container,) = task["containerDefinitions"]
    assert container["image"] == IMAGE
    assert {"name": "API_URL", "value": ui_params["ApiUrl"]} in container["environment"]
    (group,) = boto3.client("elbv2").describe_target_groups()["TargetGroups"]
    assert group["HealthCheckPath"] == "/_stcore/health"

    # Deploying again changes nothing and still succeeds.
    assert deploy.main(["ui", "--image", IMAGE, "--insecure-plain-http"]) == 0
    assert parameters("lesion-segmentation")["CorsOrigins"] == ui_url


def test_ui_deploy_needs_a_certificate_or_plain_http_by_name(aws, monkeypatch, capsys) -> None:
    api_stack()
    assert deploy.main(["ui", "--image", IMAGE]) == 2
    err = capsys.readouterr().err
    assert "needs HTTPS" in err and "--insecure-plain-http" in err
    with pytest.raises(boto3.client("cloudformation").exceptions.ClientError):
        boto3.client("cloudformation").describe_stacks(StackName="lesion-ui")
    # (moto cannot build the HTTPS listener's conditional actions: the parameters are checked.)
    deployed: dict[str, str] = {}

    def deploy_stack(stack: str, template: Path, params: dict[str, str]) -> dict[str, str]:
        deployed.update(params)
        return {"UiUrl": "https://ui.example.org"}

    monkeypatch.setattr(deploy, "deploy_stack", deploy_stack)
    assert deploy.main(["ui", "--image", IMAGE, "--certificate-arn", CERT]) == 0
    assert deployed["CertificateArn"] == CERT and "InsecurePlainHttp" not in deployed


def test_ui_deploy_without_the_api_stack_says_so(aws, capsys) -> None:
    assert deploy.main(["ui", "--image", IMAGE, "--insecure-plain-http"]) == 2
    assert "stack lesion-segmentation not found" in capsys.readouterr().err


def test_ecr_login_credentials_come_from_the_token(aws) -> None:
    user, password, registry = deploy.ecr_credentials()
    assert user == "AWS" and password
    assert registry.startswith("https://") and ".dkr.ecr.us-east-1.amazonaws.com" in registry


def test_missing_credentials_are_a_clear_error(no_aws_credentials, capsys) -> None:
    assert deploy.main(["ui", "--image", IMAGE, "--certificate-arn", CERT]) == 2
    err = capsys.readouterr().err
    assert "no AWS credentials found" in err and "Traceback" not in err


@set_initial_no_auth_action_count(4)
def test_missing_permissions_are_a_clear_error(aws, monkeypatch, capsys) -> None:
    """A user allowed to read stacks but not to create ECR repositories."""
    api_stack()
    iam = boto3.client("iam")
    iam.create_user(UserName="deployer")
    iam.put_user_policy(
        UserName="deployer",
        PolicyName="read-stacks",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "cloudformation:DescribeStacks", "Resource": "*"}
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it caches the credentials it found
    assert deploy.main(["ui", "--certificate-arn", CERT]) == 2
    err = capsys.readouterr().err
    assert "permission denied for CreateRepository" in err and "Traceback" not in err


def test_the_service_waits_for_the_listener_that_forwards() -> None:
    """With a certificate, HTTP only redirects: the service must wait for the HTTPS listener."""
    tpl = load_template(TEMPLATE)
    assert "ListenersReady" in tpl["Resources"]["Service"]["DependsOn"]
    metadata = tpl["Resources"]["ListenersReady"]["Metadata"]
    params = {"UiImageUri": IMAGE, "ApiUrl": "https://api.example/prod/"}
    assert resolve(metadata, tpl, **params, CertificateArn=CERT)["Https"] == {
        "Ref": "HttpsListener"
    }
    assert resolve(metadata, tpl, **params)["Http"] == {"Ref": "HttpListener"}

"""infra/edge-site.yaml hosts the on-device app privately on S3 behind CloudFront, HTTPS only, with
exactly edge/headers.json's headers; `python -m infra.deploy edge` uploads the site with its
Content-Type and Cache-Control, removes what it no longer holds and invalidates CloudFront's cache
(against moto, which cannot create the stack's CloudFront resources: the stack step is faked)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from cfn_support import failed_rules, load_template, resolve
from infra import deploy, edge_headers

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "infra" / "edge-site.yaml"
SPEC = json.loads((ROOT / "edge" / "headers.json").read_text())
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f8e6a3e-1111-2222-3333-444455556666"
BUCKET = "lesion-edge-site"
# A built site as `make edge` lays it out (build/edge), a few bytes a file.
SITE_FILES = (
    "index.html",
    "app.css",
    "sw.js",
    "manifest.webmanifest",
    "pipeline.json",
    "js/app.js",
    "model/unet.tflite",
    "vendor/litertjs-2.5.3/core/index.js",
    "vendor/litertjs-2.5.3/wasm/litert.wasm",
    "vendor/litertjs-2.5.3/wasm/litert.js",
)


def site(**overrides: str) -> dict[str, Any]:
    """The template's resources' properties as CloudFormation would create them."""
    tpl = load_template(TEMPLATE)
    return {
        name: resolve(r["Properties"], tpl, **overrides) for name, r in tpl["Resources"].items()
    }


def sent_headers(config: dict[str, Any]) -> dict[str, str]:
    """The headers a ResponseHeadersPolicyConfig adds to every response, as a browser sees them."""
    security = dict(config["SecurityHeadersConfig"])
    hsts = security.pop("StrictTransportSecurity")
    sent = {
        "Content-Security-Policy": security.pop("ContentSecurityPolicy")["ContentSecurityPolicy"],
        "Referrer-Policy": security.pop("ReferrerPolicy")["ReferrerPolicy"],
        "Strict-Transport-Security": f"max-age={hsts['AccessControlMaxAgeSec']}",
    }
    if security.pop("ContentTypeOptions", None):
        sent["X-Content-Type-Options"] = "nosniff"
    assert not security, f"security headers this test cannot name: {sorted(security)}"
    custom = {item["Header"]: item["Value"] for item in config["CustomHeadersConfig"]["Items"]}
    assert len(custom) == len(config["CustomHeadersConfig"]["Items"]), "a header given twice"
    assert not set(custom) & set(sent)
    return {**sent, **custom}


# --- the template -----------------------------------------------------------------------------


def test_every_response_carries_exactly_the_headers_of_edge_headers_json() -> None:
    config = site()["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]
    sent = sent_headers(config)
    hsts = sent.pop("Strict-Transport-Security")
    assert sent == edge_headers.headers() == SPEC["headers"]
    assert int(hsts.removeprefix("max-age=")) >= 31536000, "HSTS for at least a year"
    security = config["SecurityHeadersConfig"].values()
    assert all(h["Override"] is True for h in [*security, *config["CustomHeadersConfig"]["Items"]])
    behavior = site()["Distribution"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": "ResponseHeadersPolicy"}


def test_the_bucket_is_private_and_read_by_this_distribution_only() -> None:
    resources = site()
    bucket = resources["SiteBucket"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    deny_plain, allow = resources["SiteBucketPolicy"]["PolicyDocument"]["Statement"]
    assert (deny_plain["Effect"], deny_plain["Principal"], deny_plain["Action"]) == (
        "Deny",
        "*",
        "s3:*",
    )
    assert deny_plain["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject", "no s3:ListBucket: nothing lists the site"
    assert allow["Resource"] == {"Fn::Sub": "${SiteBucket.Arn}/*"}
    assert allow["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}"
                ":distribution/${Distribution}"
            }
        }
    }
    oac = resources["OriginAccessControl"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")
    assert oac["SigningProtocol"] == "sigv4"
    (origin,) = resources["Distribution"]["DistributionConfig"]["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["OriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}, "OAC, not the legacy OAI"
    assert origin["DomainName"] == {"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]}


def test_https_only_http2_and_3_and_the_app_at_the_root() -> None:
    config = site()["Distribution"]["DistributionConfig"]
    behaviors = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    assert all(b["ViewerProtocolPolicy"] == "redirect-to-https" for b in behaviors)
    assert all(b["AllowedMethods"] == ["GET", "HEAD"] for b in behaviors), "a read-only site"
    assert config["DefaultRootObject"] == "index.html"
    assert config["HttpVersion"] == "http2and3"
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert "Aliases" not in config


def test_the_objects_cache_control_decides_what_cloudfront_keeps() -> None:
    assert site()["Distribution"]["DistributionConfig"]["DefaultCacheBehavior"][
        "CachePolicyId"
    ] == {"Ref": "CachePolicy"}
    policy = site()["CachePolicy"]["CachePolicyConfig"]
    assert policy["MinTTL"] == 0, "no-cache means revalidate, at the edge too"
    assert policy["MaxTTL"] >= 31536000, "vendor/ is kept as long as its Cache-Control says"
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}


def test_a_domain_comes_with_its_certificate() -> None:
    tpl = load_template(TEMPLATE)
    named = site(CertificateArn=CERT, DomainName="app.example.org")["Distribution"]
    config = named["DistributionConfig"]
    assert config["Aliases"] == ["app.example.org"]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": CERT,
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    url = tpl["Outputs"]["SiteUrl"]["Value"]
    assert resolve(url, tpl, CertificateArn=CERT, DomainName="app.example.org") == {
        "Fn::Sub": "https://${DomainName}"
    }
    assert resolve(url, tpl) == {"Fn::Sub": "https://${Distribution.DomainName}"}
    assert failed_rules(tpl) == []
    assert failed_rules(tpl, CertificateArn=CERT, DomainName="app.example.org") == []
    assert any("CertificateArn" in f for f in failed_rules(tpl, DomainName="app.example.org"))
    assert any("DomainName" in f for f in failed_rules(tpl, CertificateArn=CERT))
    pattern = tpl["Parameters"]["CertificateArn"]["AllowedPattern"]
    assert re.fullmatch(pattern, CERT)
    assert not re.fullmatch(pattern, CERT.replace("us-east-1", "eu-west-1")), "CloudFront's region"
    assert set(tpl["Outputs"]) >= {"BucketName", "DistributionId", "SiteUrl"}


def cfn_lint(template: Path) -> subprocess.CompletedProcess[str]:
    binary = ROOT / ".venv-sam" / "bin" / "cfn-lint"
    if not binary.exists():
        pytest.fail("cfn-lint not found: run `make setup` (installs aws-sam-cli in .venv-sam)")
    return subprocess.run([str(binary), str(template)], capture_output=True, text=True, timeout=300)


def test_the_template_passes_cfn_lint_which_can_fail(tmp_path: Path) -> None:
    done = cfn_lint(TEMPLATE)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "edge-site.yaml"
    broken.write_text(TEMPLATE.read_text().replace("HttpVersion: http2and3", "HttpVersion: http4"))
    assert cfn_lint(broken).returncode != 0


# --- edge/headers.json, read by infra/edge_headers.py ----------------------------------------


def test_cache_control_by_prefix_content_type_by_suffix() -> None:
    assert edge_headers.cache_control("vendor/litertjs/x.wasm") == SPEC["cache_control"]["vendor/"]
    for key in ("index.html", "vendor.js", "js/vendor/a.js", "sw.js"):
        assert edge_headers.cache_control(key) == SPEC["cache_control"]["*"], key
    assert edge_headers.content_type("vendor/a/b.wasm") == SPEC["content_types"][".wasm"]
    assert edge_headers.content_type("m.webmanifest") == SPEC["content_types"][".webmanifest"]
    assert edge_headers.content_type("README.md") is None
    assert edge_headers.content_type("wasm") is None, "a suffix, not a name"


# --- the deploy step, against moto --------------------------------------------------------------


@pytest.fixture
def built(tmp_path: Path) -> Path:
    root = tmp_path / "edge"
    for key in SITE_FILES:
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(f"contents of {key}".encode())
    return root


@pytest.fixture
def distribution(aws) -> str:
    """A moto bucket (BUCKET) and a distribution in front of it; the distribution's id."""
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    origin = {
        "Id": "site-bucket",
        "DomainName": f"{BUCKET}.s3.us-east-1.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    created = boto3.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "test",
            "Comment": "the on-device app",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "site-bucket",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
            },
        }
    )
    return str(created["Distribution"]["Id"])


def test_every_file_goes_up_with_its_headers_and_stale_ones_go(aws, built: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="vendor/litertjs-2.5.2/core/index.js", Body=b"old")
    uploaded: list[str] = []
    s3.meta.events.register(
        "provide-client-params.s3.PutObject", lambda params, **_: uploaded.append(params["Key"])
    )
    deleted = deploy.sync_site(deploy.site_files(built), BUCKET, s3)
    assert deleted == ["vendor/litertjs-2.5.2/core/index.js"]
    assert uploaded[-1] == "index.html", "the page last, once what it loads is there"
    listed = s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(SITE_FILES)
    immutable, revalidate = SPEC["cache_control"]["vendor/"], SPEC["cache_control"]["*"]
    types = SPEC["content_types"]
    expected = {
        "index.html": (types[".html"], revalidate),
        "js/app.js": (types[".js"], revalidate),
        "sw.js": (types[".js"], revalidate),
        "manifest.webmanifest": (types[".webmanifest"], revalidate),
        "model/unet.tflite": (types[".tflite"], revalidate),
        "vendor/litertjs-2.5.3/core/index.js": (types[".js"], immutable),
        "vendor/litertjs-2.5.3/wasm/litert.wasm": (
            types[".wasm"],
            immutable,
        ),
        "vendor/litertjs-2.5.3/wasm/litert.js": (types[".js"], immutable),
    }
    for key, (content_type, cache_control) in expected.items():
        got = s3.get_object(Bucket=BUCKET, Key=key)
        assert (got["ContentType"], got["CacheControl"]) == (content_type, cache_control), key
        assert got["Body"].read() == (built / key).read_bytes()
    assert deploy.sync_site(deploy.site_files(built), BUCKET) == [], "a second sync deletes nothing"


@pytest.mark.parametrize("missing", ["folder", "index.html"])
def test_a_site_not_built_is_refused(tmp_path: Path, built: Path, missing: str) -> None:
    site_dir = tmp_path / "nothing-here"
    if missing == "index.html":
        (built / "index.html").unlink()
        site_dir = built
    with pytest.raises(deploy.DeployError, match=r"run `make edge` first"):
        deploy.site_files(site_dir)


def test_a_suffix_without_a_listed_content_type_is_refused(built: Path) -> None:
    (built / "vendor" / "litertjs-2.5.3" / "README.md").write_text("docs")
    (built / ".DS_Store").write_bytes(b"\0")
    with pytest.raises(deploy.DeployError) as refused:
        deploy.site_files(built)
    assert "no Content-Type for .DS_Store, vendor/litertjs-2.5.3/README.md" in str(refused.value)
    assert "edge/headers.json" in str(refused.value)


def test_links_out_of_the_site_are_never_followed(tmp_path: Path, built: Path) -> None:
    (built / "js" / "same.js").symlink_to(built / "js" / "app.js")
    inside = {f.key: f.path.read_bytes() for f in deploy.site_files(built)}
    assert inside["js/same.js"] == inside["js/app.js"], "a link to a file of the site is fine"
    secret = tmp_path / "secret.js"
    secret.write_text("not part of the site")
    for link, target in (("js/leak.js", secret), ("more", tmp_path), ("js/gone.js", built / "x")):
        (built / link).symlink_to(target)
        with pytest.raises(deploy.DeployError, match="only links to files of the site count"):
            deploy.site_files(built)
        (built / link).unlink()


def test_the_invalidation_drops_every_path(distribution: str) -> None:
    invalidation_id = deploy.invalidate(distribution)
    cloudfront = boto3.client("cloudfront")
    got = cloudfront.get_invalidation(DistributionId=distribution, Id=invalidation_id)
    assert got["Invalidation"]["InvalidationBatch"]["Paths"] == {"Quantity": 1, "Items": ["/*"]}


@pytest.fixture
def stacks(distribution: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Path, dict]]:
    """deploy_stack replaced by one that records its call and returns the moto resources."""
    calls: list[tuple[str, Path, dict]] = []

    def deploy_stack(stack: str, template: Path, parameters: dict[str, str]) -> dict[str, str]:
        calls.append((stack, template, parameters))
        return {
            "BucketName": BUCKET,
            "DistributionId": distribution,
            "SiteUrl": "https://d111111abcdef8.cloudfront.net",
        }

    monkeypatch.setattr(deploy, "deploy_stack", deploy_stack)
    return calls


def test_edge_deploy_syncs_the_site_and_invalidates(
    stacks, distribution: str, built: Path, capsys
) -> None:
    assert deploy.main(["edge", "--site", str(built)]) == 0
    assert stacks == [
        ("lesion-edge", deploy.EDGE_TEMPLATE, {"CertificateArn": "", "DomainName": ""})
    ]
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(SITE_FILES)
    invalidations = boto3.client("cloudfront").list_invalidations(DistributionId=distribution)
    assert invalidations["InvalidationList"]["Quantity"] == 1
    assert "https://d111111abcdef8.cloudfront.net" in capsys.readouterr().out
    assert deploy.main(["edge", "--site", str(built), "--stack", "s", "--certificate-arn", CERT,
                        "--domain", "app.example.org"]) == 0  # fmt: skip
    assert stacks[-1][2] == {"CertificateArn": CERT, "DomainName": "app.example.org"}


def test_edge_deploy_refuses_before_touching_aws(
    stacks, tmp_path: Path, built: Path, capsys
) -> None:
    assert deploy.main(["edge", "--site", str(tmp_path / "missing")]) == 2
    assert "run `make edge` first" in capsys.readouterr().err
    (built / "notes.txt").write_text("x")
    assert deploy.main(["edge", "--site", str(built)]) == 2
    assert "no Content-Type for notes.txt" in capsys.readouterr().err
    assert deploy.main(["edge", "--site", str(built), "--domain", "app.example.org"]) == 2
    assert "go together" in capsys.readouterr().err
    assert stacks == [], "no stack deployed"
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=BUCKET)

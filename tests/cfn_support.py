"""CloudFormation templates as CloudFormation would read them: YAML with the short tags (!Ref,
!If, ...), resolved for given parameter values, the template rules that would refuse them, and
template.yaml through the SAM translator."""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parent.parent
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
_TRANSLATE = (
    "import json, sys\n"
    "from samtranslator.translator.transform import transform\n"
    "from samtranslator.yaml_helper import yaml_parse\n"
    "class Policies:\n"
    "    def load(self): return {}\n"
    "t = yaml_parse(open('template.yaml').read())\n"
    "for r in t['Resources'].values():\n"
    "    if r['Type'] == 'AWS::Serverless::Function':\n"
    "        r['Properties']['ImageUri'] = 'example/image:1'\n"
    "json.dump(transform(t, json.loads(sys.argv[1]), Policies()), sys.stdout)\n"
)


def sam_translated(**parameters: str) -> dict[str, Any]:
    """template.yaml through the SAM translator (offline, .venv-sam) for these parameter values,
    as CloudFormation receives it (SAM resolves some parameters, Tracing among them, itself)."""
    return _sam_translated(json.dumps(parameters, sort_keys=True))


@cache
def _sam_translated(parameters: str) -> dict[str, Any]:
    if not SAM_PYTHON.exists():
        pytest.fail("aws-sam-cli not found: run `make setup` (installs it in .venv-sam)")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", _TRANSLATE, parameters],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    translated: dict[str, Any] = json.loads(result.stdout)
    return translated


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !If, ...) as their long form."""


def _cfn_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)


_NO_VALUE = object()


def resolve(value: Any, tpl: dict[str, Any], **overrides: str) -> Any:
    """CloudFormation's view of `value` for these parameter values (Ref, Fn::If and the few
    functions the template's conditions and rules use; other intrinsics are left as they are).
    Pseudo parameters (AWS::StackId, ...) resolve only when given: resolve(v, tpl, **{...})."""
    params = {name: str(p.get("Default", "")) for name, p in tpl["Parameters"].items()}
    params.update(overrides)

    def ev(x: Any) -> Any:
        if isinstance(x, list):
            return [v for v in map(ev, x) if v is not _NO_VALUE]
        if not isinstance(x, dict):
            return x
        if len(x) == 1:
            ((fn, arg),) = x.items()
            if fn == "Ref" and arg == "AWS::NoValue":
                return _NO_VALUE
            if fn == "Ref" and arg in params:
                listed = tpl["Parameters"].get(arg, {}).get("Type") == "CommaDelimitedList"
                return params[arg].split(",") if listed else params[arg]
            if fn == "Fn::If":
                return ev(arg[1] if ev(tpl["Conditions"][arg[0]]) else arg[2])
            if fn == "Fn::Equals":
                return str(ev(arg[0])) == str(ev(arg[1]))
            if fn == "Fn::Not":
                return not ev(arg[0])
            if fn == "Fn::And":
                return all(ev(a) for a in arg)
            if fn == "Fn::Join":
                return arg[0].join(ev(arg[1]))
            if fn == "Fn::Split":
                text = ev(arg[1])
                return text.split(arg[0]) if isinstance(text, str) else {fn: [arg[0], text]}
            if fn == "Fn::Select":
                items = ev(arg[1])
                return items[int(arg[0])] if isinstance(items, list) else {fn: [arg[0], items]}
            if fn == "Fn::Sub" and isinstance(arg, list):
                text, names = arg[0], ev(arg[1])
                for name, val in names.items():
                    text = text.replace("${" + name + "}", val)
                return text
        return {k: v for k, v in ((k, ev(v)) for k, v in x.items()) if v is not _NO_VALUE}

    return ev(value)


def failed_rules(tpl: dict[str, Any], **overrides: str) -> list[str]:
    """The AssertDescriptions CloudFormation would refuse a deployment with."""
    failed = []
    for rule in tpl.get("Rules", {}).values():
        if "RuleCondition" in rule and not resolve(rule["RuleCondition"], tpl, **overrides):
            continue
        failed += [
            a["AssertDescription"]
            for a in rule["Assertions"]
            if not resolve(a["Assert"], tpl, **overrides)
        ]
    return failed

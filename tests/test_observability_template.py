"""template.yaml's observability: every alarm notifies the stack's (encrypted) topic and says what
to do; thresholds follow Timeout and MemorySize; the REPORT-line metric filter extracts "Max Memory
Used"; the dashboard is JSON once CloudFormation substitutes it and shows the app's EMF metrics;
AlarmEmail and Tracing are opt-in."""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from cfn_support import load_template, resolve, sam_translated

ROOT = Path(__file__).parent.parent
TOPIC = [{"Ref": "AlarmTopic"}]
STACK = "lesion-segmentation"


@cache
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def alarms() -> dict[str, dict[str, Any]]:
    resources = template()["Resources"]
    return {
        name: r["Properties"]
        for name, r in resources.items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }


def substitute(text: str, **values: str) -> str:
    """A Fn::Sub string's text once CloudFormation fills it in: parameters (defaults unless
    given), pseudo parameters (given), resources (a name) and their attributes (an ARN-like
    string). A variable that names none of these fails the test, as it would fail the stack."""
    tpl = template()
    params = {name: str(p.get("Default", "")) for name, p in tpl["Parameters"].items()}
    params.update(values)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in params:
            return params[name]
        resource, _, attribute = name.partition(".")
        assert resource in tpl["Resources"], f"${{{name}}} names nothing in the template"
        return f"arn:aws:test:::{resource}/{attribute}" if attribute else f"{STACK}-{resource}"

    return re.sub(r"\$\{([^}!]+)\}", fill, text)


_OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def evaluate(expression: str, **series: float) -> float:
    """A metric-math expression of arithmetic, comparisons and IF, for one data point each."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            return series[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return float(_OPERATORS[type(node.op)](ev(node.left), ev(node.right)))
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = ev(node.left), ev(node.comparators[0])
            op = node.ops[0]
            if isinstance(op, ast.GtE):
                return float(left >= right)
            if isinstance(op, ast.Gt):
                return float(left > right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "IF":
            condition, then, otherwise = node.args
            return ev(then) if ev(condition) else ev(otherwise)
        raise AssertionError(f"not understood in {expression!r}: {ast.dump(node)}")

    return ev(ast.parse(expression, mode="eval"))


def alarm_value(name: str, overrides: dict[str, str], **series: float) -> float:
    """What the metric-math alarm `name` compares with its threshold, for these data points."""
    (returned,) = [m for m in alarms()[name]["Metrics"] if m.get("ReturnData")]
    expression = returned["Expression"]
    if isinstance(expression, dict):
        expression = substitute(expression["Fn::Sub"], **overrides)
    return evaluate(expression, **series)


def breaches(name: str, value: float) -> bool:
    alarm = alarms()[name]
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    return value > float(alarm["Threshold"])


# --- the topic and its alarms --------------------------------------------------------------------


def test_every_alarm_notifies_the_topic_and_says_what_to_do() -> None:
    assert len(alarms()) >= 11
    for name, alarm in alarms().items():
        assert alarm["AlarmActions"] == TOPIC, name
        assert alarm["OKActions"] == TOPIC, name
        assert len(alarm["AlarmDescription"]) > 100, f"{name}: say what to do"
        assert alarm["TreatMissingData"] in ("notBreaching", "ignore"), name
    for name in (
        "SegmentationFunctionErrorsAlarm",
        "SegmentationFunctionThrottlesAlarm",
        "BatchFunctionErrorsAlarm",
        "BatchFunctionThrottlesAlarm",
        "Api5xxRateAlarm",
    ):
        assert alarms()[name]["TreatMissingData"] == "notBreaching", "no requests, no errors"
    # SQS stops reporting an idle queue's metrics: a DLQ in ALARM must stay there.
    assert alarms()["BatchDeadLetterQueueAlarm"]["TreatMissingData"] == "ignore"


def test_the_topic_is_encrypted_with_a_key_cloudwatch_may_use() -> None:
    resources = template()["Resources"]
    assert resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    key = resources["AlarmTopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    (cloudwatch,) = [
        s
        for s in key["KeyPolicy"]["Statement"]
        if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert all(s["Principal"] != "*" for s in key["KeyPolicy"]["Statement"])


def test_alarm_email_subscribes_only_when_given() -> None:
    tpl = template()
    parameter = tpl["Parameters"]["AlarmEmail"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("ops@example.com")
    assert not pattern.fullmatch("ops") and not pattern.fullmatch("a b@example.com")
    subscriptions = [r for r in tpl["Resources"].values() if r["Type"] == "AWS::SNS::Subscription"]
    (subscription,) = subscriptions
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    condition = tpl["Conditions"]["HasAlarmEmail"]
    assert resolve(condition, tpl) is False
    assert resolve(condition, tpl, AlarmEmail="ops@example.com") is True


@pytest.mark.parametrize("function", ["SegmentationFunction", "BatchFunction"])
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_each_function_alarms_on_any_error_or_throttle(function: str, metric: str) -> None:
    alarm = alarms()[f"{function}{metric}Alarm"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/Lambda",
        metric,
        "Sum",
    )
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    assert float(alarm["Threshold"]) == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_duration_alarm_is_80_percent_of_timeout() -> None:
    name = "SegmentationFunctionDurationAlarm"
    (p99,) = [m for m in alarms()[name]["Metrics"] if "MetricStat" in m]
    assert p99["MetricStat"]["Stat"] == "p99"
    assert p99["MetricStat"]["Metric"]["MetricName"] == "Duration"
    assert p99["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": {"Ref": "SegmentationFunction"}}
    ]
    ten_seconds = {"Timeout": "10"}
    assert breaches(name, alarm_value(name, ten_seconds, duration_p99=8_100))
    assert not breaches(name, alarm_value(name, ten_seconds, duration_p99=7_900))
    default = int(template()["Parameters"]["Timeout"]["Default"]) * 1000  # ms
    assert breaches(name, alarm_value(name, {}, duration_p99=0.81 * default))
    assert not breaches(name, alarm_value(name, {}, duration_p99=0.79 * default))


@pytest.mark.parametrize(
    ("name", "metric", "log_group"),
    [
        ("SegmentationFunctionMemoryAlarm", "MaxMemoryUsedMB", "FunctionLogGroup"),
        ("BatchFunctionMemoryAlarm", "BatchMaxMemoryUsedMB", "BatchLogGroup"),
    ],
)
def test_memory_alarm_is_90_percent_of_memory_size(name: str, metric: str, log_group: str) -> None:
    (used,) = [m for m in alarms()[name]["Metrics"] if "MetricStat" in m]
    assert used["MetricStat"]["Stat"] == "Maximum"
    assert used["MetricStat"]["Metric"] == {"Namespace": "LesionSegmentation", "MetricName": metric}
    # ... the metric that the log group's REPORT filter writes
    (transformation,) = [
        t
        for r in template()["Resources"].values()
        if r["Type"] == "AWS::Logs::MetricFilter"
        and r["Properties"]["LogGroupName"] == {"Ref": log_group}
        for t in r["Properties"]["MetricTransformations"]
    ]
    assert (transformation["MetricNamespace"], transformation["MetricName"]) == (
        "LesionSegmentation",
        metric,
    )
    two_gb = {"MemorySize": "2048"}
    assert breaches(name, alarm_value(name, two_gb, max_memory_used=1900))  # 92.8 %
    assert not breaches(name, alarm_value(name, two_gb, max_memory_used=1800))  # 87.9 %
    default = int(template()["Parameters"]["MemorySize"]["Default"])
    assert breaches(name, alarm_value(name, {}, max_memory_used=0.91 * default))
    assert not breaches(name, alarm_value(name, {}, max_memory_used=0.89 * default))


def test_api_alarms_are_error_rates_of_the_stack_api() -> None:
    tpl = sam_translated()
    assert tpl["Resources"]["RestApi"]["Properties"]["Name"] == {"Ref": "AWS::StackName"}
    (stage,) = (r for r in tpl["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage")
    api = [{"Name": "ApiName", "Value": {"Ref": "AWS::StackName"}}]
    api.append({"Name": "Stage", "Value": stage["Properties"]["StageName"]})
    for name, metric in (("Api5xxRateAlarm", "5XXError"), ("Api4xxRateAlarm", "4XXError")):
        stats = {m["Id"]: m["MetricStat"] for m in alarms()[name]["Metrics"] if "MetricStat" in m}
        assert stats["errors"]["Metric"]["MetricName"] == metric
        assert stats["requests"]["Metric"]["MetricName"] == "Count"
        assert all(s["Metric"]["Namespace"] == "AWS/ApiGateway" for s in stats.values())
        assert all(s["Metric"]["Dimensions"] == api for s in stats.values())
        assert all(s["Stat"] == "Sum" and s["Period"] == 300 for s in stats.values())
    assert breaches("Api5xxRateAlarm", alarm_value("Api5xxRateAlarm", {}, errors=2, requests=100))
    assert not breaches(
        "Api5xxRateAlarm", alarm_value("Api5xxRateAlarm", {}, errors=1, requests=200)
    )
    assert breaches("Api4xxRateAlarm", alarm_value("Api4xxRateAlarm", {}, errors=10, requests=30))
    assert not breaches(
        "Api4xxRateAlarm", alarm_value("Api4xxRateAlarm", {}, errors=5, requests=30)
    )
    # a handful of requests is no rate: 5 refused out of 5 is not an alarm
    assert not breaches("Api4xxRateAlarm", alarm_value("Api4xxRateAlarm", {}, errors=5, requests=5))


def test_queue_alarms_watch_the_dead_letters_and_the_backlog() -> None:
    dlq = alarms()["BatchDeadLetterQueueAlarm"]
    visible = "ApproximateNumberOfMessagesVisible"
    assert (dlq["Namespace"], dlq["MetricName"]) == ("AWS/SQS", visible)
    assert dlq["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["BatchDeadLetterQueue", "QueueName"]}}
    ]
    assert float(dlq["Threshold"]) == 0 and dlq["ComparisonOperator"] == "GreaterThanThreshold"
    age = alarms()["BatchQueueAgeAlarm"]
    assert (age["Namespace"], age["MetricName"]) == ("AWS/SQS", "ApproximateAgeOfOldestMessage")
    assert age["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["BatchQueue", "QueueName"]}}
    ]
    assert float(age["Threshold"]) == 900 and age["Statistic"] == "Maximum"


# --- the REPORT line's "Max Memory Used" ---------------------------------------------------------

REQUEST = "6f2c5e5a-1b7d-4c7e-9c1a-2f0e8b7d9a31"
WARM = (
    f"REPORT RequestId: {REQUEST}\tDuration: 812.31 ms\tBilled Duration: 813 ms\t"
    "Memory Size: 1536 MB\tMax Memory Used: 402 MB\t\n"
)
COLD = (
    f"REPORT RequestId: {REQUEST}\tDuration: 1204.77 ms\tBilled Duration: 3311 ms\t"
    "Memory Size: 1536 MB\tMax Memory Used: 1419 MB\tInit Duration: 2106.10 ms\t\n"
)
TRACED = (
    f"REPORT RequestId: {REQUEST}\tDuration: 95.02 ms\tBilled Duration: 96 ms\t"
    "Memory Size: 1536 MB\tMax Memory Used: 388 MB\t\n"
    "XRAY TraceId: 1-66a1b2c3-0f1e2d3c4b5a697887766554\tSegmentId: 1a2b3c4d5e6f7a8b\t"
    "Sampled: true\t\n"
)


def match_space_delimited(pattern: str, message: str) -> dict[str, str] | None:
    """CloudWatch Logs' space-delimited filter pattern ([name, name=value, ...]), as far as the
    REPORT filter uses it: named fields in order, = an exact (possibly quoted) value, and a
    trailing ... for any further fields. The fields of a match, or None."""
    assert pattern.startswith("[") and pattern.endswith("]"), pattern
    fields = [f.strip() for f in re.findall(r'(?:[^,"]|"[^"]*")+', pattern[1:-1])]
    rest = fields[-1] == "..."
    if rest:
        fields.pop()
    assert "..." not in fields, "this parser takes ... at the end only"
    tokens = message.split()
    if len(tokens) < len(fields) or (not rest and len(tokens) != len(fields)):
        return None
    found = {}
    for field, token in zip(fields, tokens, strict=False):
        name, _, value = field.partition("=")
        assert re.fullmatch(r"[a-z_]+", name), f"field name {name!r}"
        if value and value.strip('"') != token:
            return None
        found[name] = token
    return found


def report_filters() -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in template()["Resources"].values()
        if r["Type"] == "AWS::Logs::MetricFilter"
    ]


def test_report_filter_extracts_max_memory_used() -> None:
    filters = report_filters()
    assert {json.dumps(f["LogGroupName"]) for f in filters} == {
        json.dumps({"Ref": "FunctionLogGroup"}),
        json.dumps({"Ref": "BatchLogGroup"}),
    }
    for metric_filter in filters:
        pattern = metric_filter["FilterPattern"]
        (transformation,) = metric_filter["MetricTransformations"]
        assert transformation["Unit"] == "Megabytes"
        value = transformation["MetricValue"]
        assert value.startswith("$")
        for line, used in ((WARM, "402"), (COLD, "1419"), (TRACED, "388")):
            fields = match_space_delimited(pattern, line)
            assert fields is not None, line
            assert fields[value[1:]] == used
            assert fields["memory_size"] == "1536", "not Memory Size's value"
        for other in (
            f"START RequestId: {REQUEST} Version: $LATEST",
            f"END RequestId: {REQUEST}",
            '{"level": "INFO", "message": "REPORT Max Memory Used: 9 MB"}',
            f"REPORT RequestId: {REQUEST}\tDuration: 1 ms\tMax Memory Used: 9 MB",
        ):
            assert match_space_delimited(pattern, other) is None, other


def test_the_pattern_parser_can_fail() -> None:
    assert match_space_delimited("[a=REPORT, b]", "REPORT x") == {"a": "REPORT", "b": "x"}
    assert match_space_delimited("[a=REPORT, b]", "REPORT x y") is None
    assert match_space_delimited("[a=REPORT, b, ...]", "REPORT x y") == {"a": "REPORT", "b": "x"}
    assert match_space_delimited('[a="Used:", b]', "Used 3") is None


# --- the dashboard ------------------------------------------------------------------------------

EMF = {
    "Segmentations": {"api", "batch"},
    "Refusals": {"api", "batch"},
    "DecodeLatency": {"api", "batch"},
    "InferenceLatency": {"api", "batch"},
    "TotalLatency": {"api", "batch"},
    "ImageMegapixels": {"api", "batch"},
    "ColdStarts": {"api", "batch"},
    "BatchObjects": {"batch"},
    "BatchErrors": {"batch"},
    "NeedsReview": {"api", "batch"},
}


def dashboard(**overrides: str) -> dict[str, Any]:
    body = template()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(body, str)
    pseudo = {"AWS::Region": "eu-west-1", "AWS::StackName": STACK}
    text = substitute(body, **pseudo, **overrides)
    assert "${" not in text
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def metric_lines(board: dict[str, Any]) -> list[list[Any]]:
    """Each metric line as [namespace, name, dim, value, ...] with "." spelled out."""
    lines = []
    for widget in board["widgets"]:
        previous: list[Any] = []
        for line in widget["properties"].get("metrics", []):
            spelled = [
                previous[i] if item == "." and i < len(previous) else item
                for i, item in enumerate(line)
            ]
            lines.append(spelled)
            previous = spelled
    return lines


def shown(board: dict[str, Any], namespace: str) -> dict[str, list[list[Any]]]:
    found: dict[str, list[list[Any]]] = {}
    for line in metric_lines(board):
        if line and line[0] == namespace:
            found.setdefault(line[1], []).append(line)
    return found


def test_dashboard_body_is_json_with_every_emf_metric() -> None:
    board = dashboard()
    emf = shown(board, "LesionSegmentation")
    expressions = [
        item["expression"]
        for line in metric_lines(board)
        for item in line
        if isinstance(item, dict) and "expression" in item
    ]
    (refusals,) = [e for e in expressions if "Refusals" in e]
    search = r"""SEARCH\('\{LesionSegmentation,Function,StatusCode\} MetricName="Refusals"'"""
    assert re.fullmatch(search + r""", 'Sum', \d+\)""", refusals)
    for metric, functions in EMF.items():
        if metric == "Refusals":
            continue
        lines = emf.get(metric, [])
        assert {line[3] for line in lines if line[2] == "Function"} == functions, metric
    for metric in ("DecodeLatency", "InferenceLatency", "TotalLatency"):
        stats = {line[-1]["stat"] for line in emf[metric] if isinstance(line[-1], dict)}
        assert stats == {"p50", "p99"}, metric
    megapixels = {line[-1]["stat"] for line in emf["ImageMegapixels"]}
    assert megapixels == {"Average", "Maximum"}
    assert {"MaxMemoryUsedMB", "BatchMaxMemoryUsedMB"} <= set(emf)


def test_dashboard_shows_lambda_api_queues_and_every_alarm() -> None:
    board = dashboard()
    fn = f"{STACK}-SegmentationFunction"
    batch = f"{STACK}-BatchFunction"
    lambda_ = shown(board, "AWS/Lambda")
    for metric in ("Duration", "Errors", "Throttles", "ConcurrentExecutions"):
        assert {line[3] for line in lambda_[metric]} == {fn, batch}, metric
    durations = {line[-1]["stat"] for line in lambda_["Duration"]}
    assert durations == {"p50", "p99"}
    api = shown(board, "AWS/ApiGateway")
    assert set(api) == {"Count", "4XXError", "5XXError", "Latency"}
    assert all(line[2:6] == ["ApiName", STACK, "Stage", "prod"] for v in api.values() for line in v)
    sqs = shown(board, "AWS/SQS")
    queues = {line[3] for v in sqs.values() for line in v}
    assert queues == {
        "arn:aws:test:::BatchQueue/QueueName",
        "arn:aws:test:::BatchDeadLetterQueue/QueueName",
    }
    assert {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"} <= set(sqs)
    (alarm_widget,) = [w for w in board["widgets"] if w["type"] == "alarm"]
    assert set(alarm_widget["properties"]["alarms"]) == {
        f"arn:aws:test:::{name}/Arn" for name in alarms()
    }
    for widget in board["widgets"]:
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == "eu-west-1"


def test_dashboard_marks_timeout_and_memory_size() -> None:
    board = dashboard(Timeout="12", MemorySize="3008")
    marks = {
        mark["label"]: mark["value"]
        for widget in board["widgets"]
        for mark in widget["properties"].get("annotations", {}).get("horizontal", [])
    }
    assert marks == {"API Timeout": 12_000, "MemorySize": 3008}


def test_outputs_give_the_dashboard_and_the_topic() -> None:
    outputs = template()["Outputs"]
    url = outputs["DashboardUrl"]["Value"]["Fn::Sub"]
    assert url.startswith("https://console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}")
    assert url.endswith("#dashboards:name=${Dashboard}")
    dashboard_name = template()["Resources"]["Dashboard"]["Properties"]["DashboardName"]
    assert dashboard_name == {"Ref": "AWS::StackName"}
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}


# --- METRICS and X-Ray ---------------------------------------------------------------------------


@pytest.mark.parametrize("function", ["SegmentationFunction", "BatchFunction"])
def test_functions_emit_emf_metrics(function: str) -> None:
    tpl = sam_translated()
    variables = resolve(tpl["Resources"][function]["Properties"], tpl)["Environment"]["Variables"]
    assert variables["METRICS"] == "true"


def xray_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for policy in role.get("Policies", [])
        for s in policy["PolicyDocument"]["Statement"]
        if any(str(a).startswith("xray:") for a in s["Action"])
    ]


def test_tracing_is_disabled_by_default() -> None:
    assert template()["Parameters"]["Tracing"]["Default"] == "Disabled"
    assert template()["Parameters"]["Tracing"]["AllowedValues"] == ["Active", "Disabled"]
    tpl = sam_translated()
    resources = tpl["Resources"]
    for function in ("SegmentationFunction", "BatchFunction"):
        assert "TracingConfig" not in resources[function]["Properties"], function
    managed = resources["SegmentationFunctionRole"]["Properties"]["ManagedPolicyArns"]
    assert not any("xray" in json.dumps(arn).lower() for arn in managed)
    assert xray_statements(resolve(resources["BatchFunctionRole"]["Properties"], tpl)) == []
    (stage,) = (r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage")
    assert resolve(stage["Properties"], tpl)["TracingEnabled"] is False


def test_tracing_active_traces_both_functions_and_the_api() -> None:
    tpl = sam_translated(Tracing="Active")
    resources = tpl["Resources"]
    for function in ("SegmentationFunction", "BatchFunction"):
        mode = resolve(resources[function]["Properties"]["TracingConfig"], tpl, Tracing="Active")
        assert mode == {"Mode": "Active"}, function
    managed = resources["SegmentationFunctionRole"]["Properties"]["ManagedPolicyArns"]
    assert any("xray" in json.dumps(arn).lower() for arn in managed), "SAM adds X-Ray's policy"
    role = resolve(resources["BatchFunctionRole"]["Properties"], tpl, Tracing="Active")
    (statement,) = xray_statements(role)
    assert sorted(statement["Action"]) == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    (stage,) = (r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage")
    assert resolve(stage["Properties"], tpl, Tracing="Active")["TracingEnabled"] is True

"""docs/api.md cannot drift from the app: every path, status code, response header, parameter
and response field in its /openapi.json is named on the page."""

from __future__ import annotations

from functools import cache
from typing import Any

from lesion_api.main import create_app
from lesion_api.settings import Settings
from segcore.paths import DEPLOYED_MODEL, REPOSITORY

PAGE = REPOSITORY / "docs" / "api.md"


@cache
def openapi() -> dict[str, Any]:
    document: dict[str, Any] = create_app(Settings(model_path=DEPLOYED_MODEL)).openapi()
    return document


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, methods in openapi()["paths"].items()
        for method, operation in methods.items()
    ]


def _page() -> str:
    return PAGE.read_text()


def test_every_path_and_method_is_documented() -> None:
    for path, method, _ in _operations():
        assert f"`{method.upper()} {path}`" in _page(), f"docs/api.md: `{method.upper()} {path}`"


def test_every_status_code_is_documented() -> None:
    for path, method, operation in _operations():
        for status in operation["responses"]:
            assert f"**{status}**" in _page(), f"docs/api.md: status {status} of {method} {path}"


def test_every_response_header_is_documented() -> None:
    headers = {
        name
        for _, _, operation in _operations()
        for response in operation["responses"].values()
        for name in response.get("headers", {})
    }
    assert headers, "the OpenAPI document declares no response header any more"
    for name in headers:
        assert f"`{name}`" in _page(), f"docs/api.md: response header {name}"


def test_every_parameter_and_form_field_is_documented() -> None:
    names = {
        p["name"]
        for _, _, operation in _operations()
        for p in operation.get("parameters", [])
        if p["in"] != "header"
    }
    for schema in openapi()["components"]["schemas"].values():
        if schema.get("title", "").startswith("Body_"):
            names |= set(schema["properties"])
    assert {"file", "include_probability", "pixel_spacing_mm"} <= names
    for name in names:
        assert f"`{name}`" in _page(), f"docs/api.md: parameter or form field {name}"


def test_every_response_field_is_documented() -> None:
    missing = [
        f"{field} of {name}"
        for name, schema in openapi()["components"]["schemas"].items()
        if not name.startswith("Body_")
        for field in schema.get("properties", {})
        if f"`{field}`" not in _page()
    ]
    assert not missing, f"docs/api.md does not name the fields {missing}"


def test_the_documented_paths_exist() -> None:
    documented = {"/health", "/v1/segment", "/docs", "/redoc", "/openapi.json"}
    served = set(openapi()["paths"]) | {"/docs", "/redoc", "/openapi.json"}
    assert documented <= served

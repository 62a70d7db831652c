"""schemathesis against the app's own OpenAPI schema: no 5xx, responses match the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api_support import TINY_TFLITE
from lesion_api.main import create_app
from lesion_api.settings import Settings

pytestmark = pytest.mark.slow

schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(Settings(model_path=TINY_TFLITE))
)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case) -> None:
    # Schema-valid bytes are rarely a valid JPEG/PNG: a 4xx for those is the contract, so the
    # "positive data must be accepted" check does not apply; every other check does.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])

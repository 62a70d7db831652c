"""The Lambda entry point: `lesion_api.handler.handler` (Mangum, lifespan off: the model loads at
init).

A malformed event (not an object, no request context, null maps, a body that is not valid
base64) gets a 400 response instead of an exception, which API Gateway would turn into a 502.
Behind a REST API's stage URL (.../prod/docs), the stage is the app's root path, so the links
it builds (/docs -> /prod/openapi.json) stay under the stage.
"""

from __future__ import annotations

import gc

# INIT (these imports and the model load) makes hundreds of thousands of objects that live as
# long as the process; collecting during it only costs time (~50 ms of a ~300 ms cold start,
# benchmarks/cold_start.py). What it made is then frozen out of later collections.
gc.disable()

import json  # noqa: E402
import logging  # noqa: E402
import warnings  # noqa: E402
from typing import Any  # noqa: E402

from lesion_api.openapi_models import import_fastapi  # noqa: E402

import_fastapi()  # before anything imports it: its OpenAPI models are built on first use

from mangum import Mangum  # noqa: E402
from mangum.protocols import HTTPCycle  # noqa: E402
from mangum.types import ASGI, LambdaContext  # noqa: E402

from lesion_api.logs import invocation  # noqa: E402
from lesion_api.main import create_app  # noqa: E402
from lesion_api.metrics import Metrics  # noqa: E402

gc.freeze()
gc.enable()

log = logging.getLogger(__name__)
# Maps API Gateway may send as null (e.g. a console test invoke) that Mangum reads as dicts.
NULLABLE_MAPS = (
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
)


def bad_event(reason: str) -> dict[str, Any]:
    """A 400 proxy response (valid for API Gateway v1 and v2 and for a direct invoke)."""
    return {
        "statusCode": 400,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"detail": f"malformed Lambda event: {reason}"}),
        "isBase64Encoded": False,
    }


def stage_prefix(event: dict[str, Any]) -> str:
    """What the request URL has before the API's own path: "/prod" for a REST API's stage URL,
    "" for an HTTP API's $default stage, a custom domain or `sam local`."""
    full = (event.get("requestContext") or {}).get("path")
    path = event.get("path")
    if not (isinstance(full, str) and isinstance(path, str)):
        return ""
    if len(full) > len(path) and full.endswith(path):
        return full[: len(full) - len(path)].rstrip("/")
    return ""


class SafeMangum(Mangum):
    """Mangum with lifespan off (the model loads at init) that answers a malformed event with a
    400."""

    def __init__(self, app: ASGI, metrics: Metrics | None = None) -> None:
        with warnings.catch_warnings():
            # Mangum 0.22 takes this thread's loop with asyncio.get_event_loop(), which Python
            # 3.12 deprecates where it must create the loop: the process then runs on it for life.
            warnings.filterwarnings("ignore", "There is no current event loop", DeprecationWarning)
            super().__init__(app, lifespan="off")
        self.metrics = metrics or Metrics("api", enabled=False)

    def __call__(self, event: Any, context: LambdaContext) -> dict[str, Any]:
        request_context = event.get("requestContext") if isinstance(event, dict) else None
        api_request_id = (
            request_context.get("requestId") if isinstance(request_context, dict) else None
        )
        with invocation(getattr(context, "aws_request_id", None), api_request_id) as current:
            if current.cold_start:
                self.metrics.emit({"ColdStarts": (1, "Count")})
            return self._answer(event, context)

    def _answer(self, event: Any, context: LambdaContext) -> dict[str, Any]:
        if not isinstance(event, dict):
            return bad_event(f"expected a JSON object, got {type(event).__name__}")
        event = {**event, **{k: event[k] or {} for k in NULLABLE_MAPS if k in event}}
        try:
            handler = self.infer(event, context)
            scope, body = handler.scope, handler.body
            if prefix := stage_prefix(event):
                scope = {**scope, "root_path": prefix, "path": prefix + scope["path"]}
        except Exception as error:  # the event's shape, not the app: nothing has run yet
            log.warning("malformed event: %s: %s", type(error).__name__, error)
            return bad_event("not an API Gateway proxy event with a valid body")
        return handler(HTTPCycle(scope, body)(self.app))


_app = create_app()
handler = SafeMangum(_app, _app.state.serving.metrics)

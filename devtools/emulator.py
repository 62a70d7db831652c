"""Invoking a function under the Lambda Runtime Interface Emulator, as Lambda would."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

INVOCATIONS = "/2015-03-31/functions/function/invocations"


def invoke(port: int, event: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    """The function's answer to `event` from the emulator on 127.0.0.1:port; retries while the
    emulator is not listening yet (for up to `timeout` seconds)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{INVOCATIONS}", data=json.dumps(event).encode(), method="POST"
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(request, timeout=120) as reply:
                answer: dict[str, Any] = json.loads(reply.read())
                return answer
        except OSError:  # refused or reset while the emulator starts
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

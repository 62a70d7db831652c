"""Logging for the API and the batch function: one line per record, never an image's content."""

from __future__ import annotations

import logging

FORMAT = "%(levelname)s %(name)s %(message)s"


def configure_logging(level: str) -> None:
    """Set the root level; add a handler only where none exists (the Lambda runtime has one)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format=FORMAT)
    root.setLevel(level)

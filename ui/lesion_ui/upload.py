"""Uploads through Streamlit's own server: the limit its uploader shows, and kept in memory."""

from __future__ import annotations

from starlette.formparsers import MultiPartParser

# A Streamlit "MB" (server.maxUploadSize, the uploader's max_upload_size) is 1,048,576 bytes on
# its server; browsers other than Windows ones count 1,000,000. Whole MiB never say too much.
MIB = 1024 * 1024


def uploader_limit_mb(api_limit_bytes: int, server_limit_mb: int) -> int:
    """The limit the uploader enforces and prints, in whole MB: the most that neither the API
    nor this UI's server refuses (at least 1, Streamlit's least)."""
    return max(1, min(api_limit_bytes // MIB, server_limit_mb))


def keep_in_memory(server_limit_mb: int) -> None:
    """Streamlit parses uploads with Starlette, which spools a part over 1 MiB to a temporary
    file: raise that to the largest body the server takes, so no image reaches the disk."""
    largest_body = (server_limit_mb + 1) * MIB  # Streamlit allows 1 MiB of multipart framing
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, largest_body)

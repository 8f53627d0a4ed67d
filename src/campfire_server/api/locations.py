"""The ``Location`` header of a 201 response."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import Response

API_PREFIX = "/api/v2"

# The characters that ``quote`` never encodes. A segment of only these, such
# as every id, is its own encoding, and matching it costs less than quoting.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*\Z")


def resource_path(*segments: str) -> str:
    """Return the absolute path under the API prefix, each segment percent-encoded."""
    parts = [API_PREFIX]
    for segment in segments:
        parts.append("/")
        parts.append(segment if _UNRESERVED.match(segment) else quote(segment, safe=""))
    return "".join(parts)


def set_location(response: Response, *segments: str) -> None:
    """Name the created resource in ``Location``: ``set_location(r, "agents", id)``."""
    response.headers["Location"] = resource_path(*segments)

"""The ``Location`` header of a 201 response."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Response

API_PREFIX = "/api/v2"


def resource_path(*segments: str) -> str:
    """Return the absolute path under the API prefix, each segment percent-encoded."""
    return API_PREFIX + "".join("/" + quote(segment, safe="") for segment in segments)


def set_location(response: Response, *segments: str) -> None:
    """Name the created resource in ``Location``: ``set_location(r, "agents", id)``."""
    response.headers["Location"] = resource_path(*segments)

"""Browser origins that may call the API: the allowed origins of live publishable keys."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from ..db.database import Database
from ..errors import ValidationFailed

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0


def normalize_origin(value: str) -> str:
    """Return ``scheme://host[:port]`` in lower case, or raise ``ValidationFailed``.

    Default ports are dropped, as browsers drop them from the ``Origin`` header.
    """
    text = value.strip()
    parts = urlsplit(text)
    valid = (
        parts.scheme in ("http", "https")
        and parts.hostname
        and not parts.username
        and not parts.password
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
    )
    try:
        port = parts.port
    except ValueError:
        valid = False
    if not valid:
        raise ValidationFailed(
            f"{value!r} is not a web origin",
            field="allowedOrigins",
            value=value,
            expected="scheme://host[:port] such as https://shop.example, with no path",
        )
    default_port = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()  # type: ignore[union-attr]
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{parts.scheme}://{host}{suffix}"


def origin_matches(origin: str, allowed: list[str] | tuple[str, ...] | frozenset[str]) -> bool:
    """Return whether ``origin``, once normalized, is one of the ``allowed`` origins."""
    try:
        normalized = normalize_origin(origin)
    except ValidationFailed:
        return False
    return normalized in allowed


class OriginRegistry:
    """The union of every live publishable key's allowed origins, reloaded every 30 s.

    It answers CORS preflights, which carry no credential. Each widget
    session still checks the origin against its own key.
    """

    def __init__(self, db: Database | None) -> None:
        self._db = db
        self._origins: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")

    async def allows(self, origin: str) -> bool:
        if self._db is None:
            return False
        if time.monotonic() - self._loaded_at > REFRESH_SECONDS:
            self._origins = await self._db.read(_load_origins)
            self._loaded_at = time.monotonic()
        return origin_matches(origin, self._origins)


def _load_origins(tx: Any) -> frozenset[str]:
    rows = tx.all(
        "SELECT allowed_origins FROM api_keys WHERE kind = 'publishable' AND revoked_at IS NULL"
    )
    origins: set[str] = set()
    for row in rows:
        try:
            origins.update(json.loads(row["allowed_origins"] or "[]"))
        except ValueError:
            log.warning("api key has unreadable allowed_origins; ignoring it")
    return frozenset(origins)

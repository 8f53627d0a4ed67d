"""Input rules shared by every domain: text, metadata and URL values."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from .errors import ValidationFailed

MAX_METADATA_BYTES = 16 * 1024
MAX_METADATA_DEPTH = 5

# Metadata keys whose values browsers and dashboards may render as links.
URL_METADATA_KEYS = {"referrer", "url", "website", "pageurl", "homepage", "link"}


def find_bad_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """Return ``(path, reason)`` for the first string holding NUL or a lone surrogate."""
    if isinstance(value, str):
        if "\x00" in value:
            return path, "a string without NUL (U+0000) characters"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, "valid Unicode text without unpaired surrogates"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            found = find_bad_text(key, child) or find_bad_text(item, child)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_bad_text(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


def is_http_url(value: str) -> bool:
    """Tell whether ``value`` is an absolute http or https URL with a host."""
    if value != value.strip() or any(ord(char) < 0x21 for char in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def check_metadata(value: dict[str, Any], field: str = "metadata") -> dict[str, Any]:
    """Enforce the metadata limits: a JSON object of at most 16 KiB and 5 levels."""
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_METADATA_BYTES:
        raise ValidationFailed(
            f"{field} is {size} bytes of JSON; the limit is {MAX_METADATA_BYTES}",
            field=field,
            value=f"<{size} bytes>",
            expected=f"a JSON object of at most {MAX_METADATA_BYTES} bytes",
        )
    depth = _depth(value)
    if depth > MAX_METADATA_DEPTH:
        raise ValidationFailed(
            f"{field} nests {depth} levels deep; the limit is {MAX_METADATA_DEPTH}",
            field=field,
            value=f"<{depth} levels>",
            expected=f"a JSON object nested at most {MAX_METADATA_DEPTH} levels",
        )
    for key, item in value.items():
        normalised = key.lower().replace("_", "")
        looks_like_url = normalised in URL_METADATA_KEYS or normalised.endswith("url")
        if looks_like_url and isinstance(item, str) and not is_http_url(item):
            raise ValidationFailed(
                f"{field}.{key} must be an absolute http or https URL",
                field=f"{field}.{key}",
                value=item[:200],
                expected="an absolute URL starting with http:// or https://",
            )
    return value


def check_content(value: str, field: str = "content", maximum: int = 10_000) -> str:
    """Enforce 1..maximum Unicode code points with at least one visible character."""
    if not value.strip():
        raise ValidationFailed(
            f"{field} is empty",
            field=field,
            value=value,
            expected=f"1 to {maximum} characters of text",
        )
    if len(value) > maximum:
        raise ValidationFailed(
            f"{field} has {len(value)} characters; the limit is {maximum}",
            field=field,
            value=f"<{len(value)} characters>",
            expected=f"at most {maximum} characters (Unicode code points)",
        )
    return value

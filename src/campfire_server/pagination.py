"""Keyset pagination shared by every list endpoint.

Lists are ordered by ``(created_at, id)``; a cursor encodes both values of
the last item returned, so rows that arrive between two pages can neither
repeat nor hide an item. ``page`` offsets are accepted too, but only a
cursor is stable while rows are being added.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ValidationFailed

Direction = Literal["asc", "desc"]

MAX_LIMIT = 100
DEFAULT_LIMIT = 50


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    limit: int = DEFAULT_LIMIT
    cursor: tuple[int, str] | None = None

    @property
    def offset(self) -> int:
        return 0 if self.cursor is not None else (self.page - 1) * self.limit


def encode_cursor(created_at: int, item_id: str) -> str:
    raw = json.dumps([created_at, item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[int, str]:
    try:
        padded = value + "=" * (-len(value) % 4)
        created_at, item_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(created_at, int) or not isinstance(item_id, str):
            raise ValueError
        return created_at, item_id
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ValidationFailed(
            "cursor is not a value this server returned",
            field="cursor",
            value=value[:100],
            expected="the nextCursor of a previous page, unchanged",
        ) from None


def page_request(page: int, limit: int, cursor: str | None) -> PageRequest:
    if page < 1:
        raise ValidationFailed("page must be 1 or more", field="page", value=page, expected=">= 1")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be between 1 and {MAX_LIMIT}",
            field="limit",
            value=limit,
            expected=f"an integer from 1 to {MAX_LIMIT}",
        )
    return PageRequest(page, limit, decode_cursor(cursor) if cursor else None)


def keyset_clause(request: PageRequest, direction: Direction, params: dict[str, Any]) -> str:
    """Return the SQL condition that continues after the cursor, or an empty string."""
    if request.cursor is None:
        return ""
    params["cursor_created_at"], params["cursor_id"] = request.cursor
    op = ">" if direction == "asc" else "<"
    return (
        f" AND (created_at {op} :cursor_created_at OR "
        f"(created_at = :cursor_created_at AND id {op} :cursor_id))"
    )


def order_clause(request: PageRequest, direction: Direction) -> str:
    order = "ASC" if direction == "asc" else "DESC"
    limit = request.limit + 1
    return f" ORDER BY created_at {order}, id {order} LIMIT {limit} OFFSET {request.offset}"


def pagination(
    request: PageRequest, rows: list[dict[str, Any]], total: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Trim the extra look-ahead row and build the ``pagination`` object."""
    has_more = len(rows) > request.limit
    rows = rows[: request.limit]
    next_cursor = None
    if has_more and rows:
        next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"])
    return rows, {
        "page": request.page,
        "limit": request.limit,
        "total": total,
        "totalPages": math.ceil(total / request.limit) if total else 0,
        "hasMore": has_more,
        "nextCursor": next_cursor,
    }

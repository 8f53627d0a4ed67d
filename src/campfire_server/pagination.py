"""Keyset pagination shared by every list endpoint.

Lists are ordered by ``created_at`` and a tie-break column: ``id`` for
most lists, and for messages ``seq``, their number in the order they were
stored, so that two messages of one millisecond list in the order that the
conversation's unread count followed. A cursor encodes both values of the
last item returned, so rows that arrive between two pages can neither
repeat nor hide an item. ``page`` offsets are accepted too, but only a
cursor is stable while rows are being added.

A cursor also carries a tag of the list it came from (the endpoint, its
parent and its filters), so a cursor of one list is refused by another
instead of silently continuing from an unrelated position.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ValidationFailed
from .validation import find_bad_text

Direction = Literal["asc", "desc"]

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
# Far beyond any real list, and small enough that page * limit stays a
# 64-bit OFFSET on both engines.
MAX_PAGE = 1_000_000
# A cursor is plain base64 JSON that a client can edit, so decode_cursor
# checks its values against the columns, which contain a non-negative 64-bit
# time in milliseconds and an id of at most 64 characters or a non-negative
# 64-bit sequence number.
MAX_CURSOR_TIME = 2**63 - 1
MAX_CURSOR_ID_LENGTH = 64

# The tie-break value of a cursor: an id, or a sequence number.
CursorKey = str | int


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    limit: int = DEFAULT_LIMIT
    # The sort key of the last item already returned: ``(created_at, key)``,
    # or for a list with another order the values that ``cursor_shape`` named.
    cursor: tuple[Any, ...] | None = None
    list_tag: str = ""

    @property
    def offset(self) -> int:
        return 0 if self.cursor is not None else (self.page - 1) * self.limit


def list_tag(list_key: str) -> str:
    """Return the short tag that ties a cursor to the list that ``list_key`` names."""
    return hashlib.sha256(list_key.encode()).hexdigest()[:8]


def encode_cursor(created_at: int, key: CursorKey, tag: str) -> str:
    raw = json.dumps([tag, created_at, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_position(values: tuple[int | str, ...], tag: str) -> str:
    """Encode the sort key of a list ordered by more than ``(created_at, key)``."""
    raw = json.dumps([tag, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(value: str, tag: str, shape: tuple[type, ...]) -> tuple[int | str, ...]:
    """Return the sort key that ``value`` encodes, checked against list ``tag`` and ``shape``.

    ``shape`` gives the type of each value of the key, ``int`` or ``str``.
    """
    try:
        padded = value + "=" * (-len(value) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(decoded, list) or not decoded or not isinstance(decoded[0], str):
            raise ValueError
    except (ValueError, TypeError, UnicodeDecodeError, RecursionError):
        raise _unreadable(value) from None
    cursor_tag, *values = decoded
    if cursor_tag != tag:
        raise _other_list(value)
    if len(values) != len(shape) or not all(
        type(item) is kind and _valid_key(item) for item, kind in zip(values, shape, strict=True)
    ):
        raise _unreadable(value)
    return tuple(values)


def _other_list(value: str) -> ValidationFailed:
    return ValidationFailed(
        "cursor belongs to another list (another endpoint, parent or filter); "
        "pass the nextCursor of this list's previous page, or start without a cursor",
        field="cursor",
        value=value[:100],
        expected="the nextCursor of a previous page of this same list",
    )


def _unreadable(value: str) -> ValidationFailed:
    return ValidationFailed(
        "cursor is not a value this server returned; send the nextCursor of a previous page "
        "unchanged, or leave cursor out to start at the first page",
        field="cursor",
        value=value[:100],
        expected="the nextCursor of a previous page, unchanged",
    )


def _valid_key(key: object) -> bool:
    if isinstance(key, str):
        return len(key) <= MAX_CURSOR_ID_LENGTH and find_bad_text(key) is None
    return isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= MAX_CURSOR_TIME


def decode_cursor(
    value: str, tag: str, key_types: tuple[type, ...] = (str,)
) -> tuple[int, CursorKey]:
    """Return the position that ``value`` encodes, after checking it belongs to list ``tag``.

    ``key_types`` are the types that the list's tie-break value may have: an
    id (``str``), a sequence number (``int``), or either.
    """
    try:
        padded = value + "=" * (-len(value) % 4)
        cursor_tag, created_at, key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if (
            not isinstance(cursor_tag, str)
            or isinstance(created_at, bool)
            or not isinstance(created_at, int)
            or not 0 <= created_at <= MAX_CURSOR_TIME
            or not _valid_key(key)
        ):
            raise ValueError
    except (ValueError, TypeError, UnicodeDecodeError, RecursionError):
        raise _unreadable(value) from None
    if cursor_tag != tag:
        raise _other_list(value)
    # The tag matched, so a key of another type was edited by the client.
    if type(key) not in key_types:
        raise _unreadable(value)
    return created_at, key


def page_request(
    page: int,
    limit: int,
    cursor: str | None,
    *,
    list_key: str,
    key_types: tuple[type, ...] = (str,),
    max_limit: int = MAX_LIMIT,
    cursor_shape: tuple[type, ...] | None = None,
) -> PageRequest:
    """Check the paging parameters of the list that ``list_key`` names.

    ``list_key`` names the endpoint, its parent and its filters, for example
    ``messages:conv_123``; a cursor is only valid for the key it came from.
    ``key_types`` are the types its cursors' tie-break value may have.
    ``max_limit`` is the largest ``limit`` the list accepts. A list ordered
    by more than ``(created_at, key)`` gives ``cursor_shape``, the types of
    its sort key, and encodes its cursors with ``encode_position``.
    """
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed(
            f"page must be between 1 and {MAX_PAGE}; follow nextCursor to walk long lists",
            field="page",
            value=page,
            expected=f"an integer from 1 to {MAX_PAGE}",
        )
    if not 1 <= limit <= max_limit:
        raise ValidationFailed(
            f"limit must be between 1 and {max_limit}",
            field="limit",
            value=limit,
            expected=f"an integer from 1 to {max_limit}",
        )
    tag = list_tag(list_key)
    position: tuple[Any, ...] | None = None
    if cursor and cursor_shape is not None:
        position = decode_position(cursor, tag, cursor_shape)
    elif cursor:
        position = decode_cursor(cursor, tag, key_types)
    return PageRequest(page, limit, position, tag)


def keyset_clause(
    request: PageRequest, direction: Direction, params: dict[str, Any], tiebreak: str = "id"
) -> str:
    """Return the SQL condition that continues after the cursor, or an empty string.

    ``tiebreak`` is the column that orders rows of one ``created_at``; the
    cursor's key must already be a value of that column.
    """
    if request.cursor is None:
        return ""
    params["cursor_created_at"], params["cursor_key"] = request.cursor
    op = ">" if direction == "asc" else "<"
    return (
        f" AND (created_at {op} :cursor_created_at OR "
        f"(created_at = :cursor_created_at AND {tiebreak} {op} :cursor_key))"
    )


def order_clause(request: PageRequest, direction: Direction, tiebreak: str = "id") -> str:
    order = "ASC" if direction == "asc" else "DESC"
    limit = request.limit + 1
    return f" ORDER BY created_at {order}, {tiebreak} {order} LIMIT {limit} OFFSET {request.offset}"


def page_in_memory(
    request: PageRequest, rows: list[dict[str, Any]], tiebreak: str = "id"
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Cut one page out of ``rows``, which are every row of the list, oldest first.

    This is for short lists whose visibility is decided in Python, such as
    API keys, with the same cursor and ``pagination`` object as the SQL lists.
    """
    remaining = rows
    if request.cursor is not None:
        after = request.cursor
        remaining = [row for row in rows if (row["created_at"], row[tiebreak]) > after]
    window = remaining[request.offset : request.offset + request.limit + 1]
    return pagination(request, window, len(rows), tiebreak)


def pagination(
    request: PageRequest,
    rows: list[dict[str, Any]],
    total: int,
    tiebreak: str = "id",
    cursor_of: Callable[[dict[str, Any]], str] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Trim the extra look-ahead row and build the ``pagination`` object.

    ``cursor_of`` builds the cursor of a list that is not ordered by
    ``(created_at, tiebreak)``; it receives the last row of the page.
    """
    has_more = len(rows) > request.limit
    rows = rows[: request.limit]
    next_cursor = None
    if has_more and rows and cursor_of is not None:
        next_cursor = cursor_of(rows[-1])
    elif has_more and rows:
        next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1][tiebreak], request.list_tag)
    return rows, {
        "page": request.page,
        "limit": request.limit,
        "total": total,
        "totalPages": math.ceil(total / request.limit) if total else 0,
        "hasMore": has_more,
        "nextCursor": next_cursor,
    }

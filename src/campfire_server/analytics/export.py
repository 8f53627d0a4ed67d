"""One CSV row per conversation, with the same definitions as the metrics."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..clock import to_iso
from .stream import AI

COLUMNS = (
    "conversation_id",
    "mailbox_id",
    "status",
    "created_at",
    "created_local",
    "message_count",
    "first_response_seconds",
    "first_response_by",
    "first_human_response_seconds",
    "first_resolved_at",
    "resolution_seconds",
    "resolved_by",
    "handoff",
    "rating",
    "rating_comment",
)

# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _seconds(milliseconds: Any) -> str:
    return "" if milliseconds is None else f"{int(milliseconds) / 1000:.3f}"


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def csv_row(row: dict[str, Any], zone: ZoneInfo) -> list[str]:
    created_at = int(row["created_at"])
    resolved_at = row["resolved_at"]
    if resolved_at is None:
        resolved_by = ""
    elif row["ai_resolved"]:
        resolved_by = "ai"
    elif row["agent_involved"]:
        resolved_by = "agent"
    else:
        resolved_by = "none"
    reply_kind = row["first_reply_kind"]
    if reply_kind is None:
        first_response_by = ""
    else:
        first_response_by = "ai" if int(reply_kind) == AI else "agent"
    return [
        row["id"],
        row["mailbox_id"],
        row["status"],
        to_iso(created_at) or "",
        datetime.fromtimestamp(created_at / 1000, tz=zone).isoformat(timespec="milliseconds"),
        str(row["message_count"]),
        _seconds(row["first_response_ms"]),
        first_response_by,
        _seconds(row["first_human_response_ms"]),
        to_iso(resolved_at) or "",
        "" if resolved_at is None else _seconds(int(resolved_at) - created_at),
        resolved_by,
        "true" if row["handoff_at"] is not None else "false",
        "" if row["rating"] is None else str(row["rating"]),
        _text(row["comment"]),
    ]


def render(rows: Iterable[list[str]], *, header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()

"""Read articles for import from a folder of Markdown, HTML or text files, or a JSON Lines file.

Markdown files may start with front matter between two ``---`` lines, one
``key: value`` per line: ``title``, ``url``, ``tags`` (``[a, b]`` or
``a, b``), ``mailboxIds`` and ``externalId``. Without a title the first
heading or line is used. A file's externalId defaults to ``file:`` plus its
path inside the folder, so importing the same folder again updates in place.

A JSON Lines file holds one object per line with ``title`` and ``content``
(or ``text``), and optionally ``url``, ``tags``, ``mailboxIds`` and
``externalId`` (or ``id``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import pydantic_errors
from ..errors import ValidationFailed
from .schemas import ArticleCreate
from .text import html_to_text

MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
TEXT_SUFFIXES = {".txt"}
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_FRONT_KEYS = {
    "title": "title",
    "url": "url",
    "tags": "tags",
    "mailboxids": "mailbox_ids",
    "mailbox_ids": "mailbox_ids",
    "externalid": "external_id",
    "external_id": "external_id",
}


def read_source(path: Path) -> list[ArticleCreate]:
    """Read every article under ``path``: a folder, a JSON Lines file or a single document."""
    if not path.exists():
        base = "" if path.is_absolute() else f" (read from {str(Path.cwd())!r})"
        raise ValidationFailed(
            f"cannot import {str(path)!r}{base}: no such file or folder; check the path",
            field="path",
            value=str(path),
        )
    if path.is_dir():
        return read_folder(path)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return read_json_lines(path)
    if path.suffix.lower() in SUPPORTED_SUFFIXES:
        return [read_document(path, path.name)]
    raise ValidationFailed(
        f"cannot import {str(path)!r}: expected a folder, a .jsonl file or a "
        ".md, .html or .txt file",
        field="path",
        value=str(path),
    )


def _read_text(path: Path) -> str:
    """Read ``path`` as UTF-8, raising ``ValidationFailed`` that names the file and the byte."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise _not_utf8(path, error, line=None) from None


def _not_utf8(path: Path, error: UnicodeDecodeError, line: int | None) -> ValidationFailed:
    byte = error.object[error.start]
    where = f"line {line}" if line is not None else f"byte offset {error.start}"
    return ValidationFailed(
        f"cannot import {str(path)!r}: it is not UTF-8 text (byte 0x{byte:02x} at {where}); "
        "save the file with UTF-8 encoding and import it again",
        field="path",
        value=str(path),
    )


def read_folder(folder: Path) -> list[ArticleCreate]:
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
    )
    return [read_document(p, p.relative_to(folder).as_posix()) for p in files]


def read_document(path: Path, relative_name: str) -> ArticleCreate:
    raw = _read_text(path)
    suffix = path.suffix.lower()
    fields: dict[str, Any] = {}
    if suffix in MARKDOWN_SUFFIXES:
        fields, body = split_front_matter(raw)
        if "title" not in fields:
            heading = _HEADING.search(body)
            if heading:
                fields["title"] = heading.group(1)
    elif suffix in HTML_SUFFIXES:
        title = _HTML_TITLE.search(raw) or _HTML_H1.search(raw)
        if title:
            fields["title"] = html_to_text(title.group(1))
        body = html_to_text(raw)
    else:
        body = raw.strip()
    if "title" not in fields:
        first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
        fields["title"] = first_line[:200] or path.stem
    fields.setdefault("external_id", f"file:{relative_name}")
    return _validated({**fields, "content": body.strip()}, where=relative_name)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split ``---`` front matter of ``key: value`` lines off a Markdown text."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        return {}, text
    fields: dict[str, Any] = {}
    for line in lines[1:end]:
        if ":" not in line or line.lstrip().startswith("#"):
            continue
        key, value = line.split(":", 1)
        name = _FRONT_KEYS.get(key.strip().lower())
        if name is None:
            continue
        value = value.strip().strip("\"'")
        if name in ("tags", "mailbox_ids"):
            items = value.strip("[]").split(",")
            fields[name] = [item.strip().strip("\"'") for item in items if item.strip()]
        elif value:
            fields[name] = value
    return fields, "\n".join(lines[end + 1 :])


def read_json_lines(path: Path) -> list[ArticleCreate]:
    articles = []
    with path.open("rb") as handle:
        for number, raw_line in enumerate(handle, start=1):
            try:
                line = raw_line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise _not_utf8(path, error, line=number) from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValidationFailed(
                    f"line {number} of {str(path)!r} is not valid JSON: {error.msg}",
                    field="line",
                    value=number,
                ) from None
            if not isinstance(row, dict):
                raise ValidationFailed(
                    f"line {number} of {str(path)!r} is not a JSON object",
                    field="line",
                    value=number,
                )
            articles.append(_validated(json_row_fields(row), where=f"{path.name} line {number}"))
    return articles


def json_row_fields(row: dict[str, Any]) -> dict[str, Any]:
    """Map one JSON Lines row onto article fields, accepting ``text`` for content and ``id``."""
    external_id = row.get("externalId", row.get("external_id", row.get("id")))
    return {
        "title": row.get("title") or "",
        "content": row.get("content", row.get("text")) or "",
        "url": row.get("url"),
        "tags": row.get("tags") or [],
        "mailbox_ids": row.get("mailboxIds", row.get("mailbox_ids")) or [],
        "external_id": None if external_id is None else str(external_id),
    }


def _validated(fields: dict[str, Any], *, where: str) -> ArticleCreate:
    try:
        return ArticleCreate.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        field = pydantic_errors.field_path(tuple(first["loc"]))
        reason = pydantic_errors.describe_message(field, first)
        raise ValidationFailed(
            f"invalid article in {where}: {reason}", field=field, value=where
        ) from None

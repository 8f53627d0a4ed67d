"""Read and check the rows of a labelled question set for ``campfire eval``.

Every row is checked before anything runs, so a bad row stops the command
with a ``QuestionSetError`` that names the file, the line, the field, the
value and what was expected, and never scores as a silent miss.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The values of expected_action; ``answer`` and ``answer_partial`` count as answerable.
EXPECTED_ACTIONS = ("answer", "answer_partial", "handoff", "clarify", "chitchat")
SPEAKERS = ("user", "customer", "agent", "ai")
_SHOWN_CHARS = 60


class QuestionSetError(ValueError):
    """A row of a question set that cannot be evaluated; the message names the fix."""


def shown(value: Any) -> str:
    """Return ``value`` as JSON, cut to a readable length, for an error message."""
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > _SHOWN_CHARS:
        return text[: _SHOWN_CHARS - 3] + "..."
    return text


def json_kind(value: Any) -> str:
    """Return the JSON type name of ``value``: string, number, boolean, null, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class Row:
    """One JSON object of a set's file, with its file and line for error messages."""

    def __init__(self, path: Path, line: int, fields: dict[str, Any]) -> None:
        self.path = path
        self.line = line
        self.fields = fields

    def error(self, field: str, problem: str, expected: str) -> QuestionSetError:
        return QuestionSetError(
            f"{self.path} line {self.line}: {field} {problem}; expected {expected}; "
            "fix the row and run the command again"
        )

    def invalid(self, field: str, expected: str) -> QuestionSetError:
        value = self.fields[field]
        return self.error(field, f"is {shown(value)} ({json_kind(value)})", expected)

    def text(self, field: str) -> str:
        """Return the required non-empty string ``field``."""
        if field not in self.fields:
            raise self.error(field, "is missing", "a non-empty string")
        return self._checked_text(field)

    def optional_text(self, field: str) -> str | None:
        """Return the non-empty string ``field``, or None when it is absent or null."""
        if self.fields.get(field) is None:
            return None
        return self._checked_text(field)

    def _checked_text(self, field: str) -> str:
        value = self.fields[field]
        if not isinstance(value, str) or not value.strip():
            raise self.invalid(field, "a non-empty string")
        return value

    def flag(self, field: str) -> bool | None:
        """Return the boolean ``field``, or None when it is absent or null."""
        value = self.fields.get(field)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self.invalid(field, "true or false (a JSON boolean, not a string)")
        return value


def read_rows(path: Path) -> Iterator[Row]:
    """Yield each non-blank line of the JSON Lines file ``path`` as a ``Row``.

    Raises ``QuestionSetError`` on a line that is not UTF-8, not JSON or not an object.
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise QuestionSetError(
                    f"{path} line {number}: byte 0x{raw[error.start]:02x} is not UTF-8; "
                    "save the file as UTF-8 and run the command again"
                ) from None
            if not line.strip():
                continue
            try:
                fields = json.loads(line)
            except json.JSONDecodeError as error:
                raise QuestionSetError(
                    f"{path} line {number}: invalid JSON at column {error.colno}: {error.msg}; "
                    "expected one JSON object per line"
                ) from None
            if not isinstance(fields, dict):
                raise QuestionSetError(
                    f"{path} line {number}: the row is {json_kind(fields)} {shown(fields)}; "
                    "expected one JSON object per line"
                )
            yield Row(path, number, fields)


def article_id(row: Row) -> str:
    """Return the article row's ``id``: a non-empty string or an integer."""
    if "id" not in row.fields:
        raise row.error("id", "is missing", "a non-empty string that names the article")
    value = row.fields["id"]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise row.invalid("id", "a non-empty string that names the article")
    return value


def gold_ids(row: Row, known_ids: set[str]) -> list[str]:
    """Return ``gold_article_ids``: ids of the set's articles, empty for no answer."""
    field = "gold_article_ids"
    expected = 'an array of article ids, such as ["a1"], or [] when no article answers'
    if field not in row.fields:
        raise row.error(field, "is missing", expected)
    value = row.fields[field]
    if not isinstance(value, list):
        raise row.invalid(field, expected)
    ids = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str) or not item.strip():
            raise row.error(field, f"contains {shown(item)} ({json_kind(item)})", expected)
        if item not in known_ids:
            raise row.error(
                field,
                f"contains {shown(item)}, which is no id in articles.jsonl",
                "ids of rows of articles.jsonl",
            )
        ids.append(item)
    return ids


def expected_handoff(row: Row) -> bool:
    """Return whether the question should hand off, from expected_handoff and answerable.

    The two fields must agree when both are present. Without either, the
    question expects an answer.
    """
    handoff = row.flag("expected_handoff")
    answerable = row.flag("answerable")
    if handoff is not None and answerable is not None and handoff == answerable:
        raise row.error(
            "answerable",
            f"is {shown(answerable)} and expected_handoff is {shown(handoff)}",
            "expected_handoff to be the opposite of answerable",
        )
    if handoff is not None:
        return handoff
    if answerable is not None:
        return not answerable
    return False


def expected_action(row: Row, handoff: bool) -> str:
    value = row.fields.get("expected_action")
    if value is None:
        return "handoff" if handoff else "answer"
    if value not in EXPECTED_ACTIONS:
        raise row.invalid("expected_action", "one of " + ", ".join(EXPECTED_ACTIONS))
    return value


def history(row: Row) -> list[tuple[str, str]]:
    """Return the earlier turns as ``(speaker, text)`` pairs, checking each turn."""
    value = row.fields.get("history")
    if value is None:
        return []
    expected = 'an array of turns such as {"speaker": "user", "text": "Hi"}'
    if not isinstance(value, list):
        raise row.invalid("history", expected)
    turns = []
    for index, turn in enumerate(value):
        field = f"history[{index}]"
        if not isinstance(turn, dict):
            raise row.error(field, f"is {shown(turn)} ({json_kind(turn)})", expected)
        speaker = turn.get("speaker", "user")
        if speaker not in SPEAKERS:
            raise row.error(
                f"{field}.speaker", f"is {shown(speaker)}", "one of " + ", ".join(SPEAKERS)
            )
        text = turn.get("text")
        if not isinstance(text, str):
            raise row.error(f"{field}.text", f"is {shown(text)} ({json_kind(text)})", "a string")
        turns.append((speaker, text))
    return turns

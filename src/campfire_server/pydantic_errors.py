"""Pydantic's validation errors, worded as this API's own messages.

Each message names the field, states what is wrong with the value as the
client sent it (in JSON spelling), and states what to send instead, as in
``status "archived" is not one of "open", "pending", "resolved" or "closed";
send one of them``. Pydantic's own texts ("String should have at most 500
characters", "Value error, ...") never reach a client.
"""

from __future__ import annotations

import json
import logging
import re
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import core_schema

from .errors import ValidationFailed, shown_text
from .json_values import as_sent
from .redaction import is_secret_field

log = logging.getLogger(__name__)

# Exceptions defined in this package carry messages written for clients.
_PACKAGE = __name__.partition(".")[0]

# The expected value of a field, per pydantic error type.
_EXPECTED_BY_TYPE = {
    "missing": "a value for this required field",
    "extra_forbidden": "no such field; remove it",
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "query_int_parsing": "an integer written in decimal digits, such as 20",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "dict_type": "a JSON object",
    "model_type": "a JSON object",
    "model_attributes_type": "a JSON object",
    "list_type": "a JSON array",
    "json_invalid": "a valid JSON document",
    "string_unicode": "valid Unicode text without unpaired surrogates",
    # Python reads at most 4300 digits as an integer (sys.int_info.default_max_str_digits).
    "int_parsing_size": "an integer of at most 4300 digits",
}

# The error types that pydantic-core defines. Any other type is a
# PydanticCustomError raised by this package, whose message is worded for clients.
_PYDANTIC_ERROR_TYPES = frozenset(typing.get_args(core_schema.ErrorType))

# Types whose value is of the wrong JSON type, worded as "must be X, not Y".
_TYPE_ERRORS = frozenset(
    {
        "string_type",
        "int_type",
        "int_from_float",
        "float_type",
        "bool_type",
        "dict_type",
        "model_type",
        "model_attributes_type",
        "list_type",
    }
)

# pydantic's bound errors, the key of the bound in their context, and the
# bound in words.
_BOUND_WORDS = {
    "greater_than_equal": ("ge", "at least"),
    "less_than_equal": ("le", "at most"),
    "greater_than": ("gt", "greater than"),
    "less_than": ("lt", "less than"),
}


def field_path(location: tuple[Any, ...]) -> str:
    """Return the path of an error's location, without FastAPI's source prefix.

    Object keys are joined with dots and list indexes are written in
    brackets (``articles[0].mailboxIds[1]``), as the hand-written checks
    write them. A repeated query parameter (``?status=queued&status=bogus``)
    is one list whose item index means nothing to the client, so a query
    path is the parameter's name alone.
    """
    in_query = bool(location) and location[0] == "query"
    path = ""
    for part in location:
        if part in ("body", "query", "path", "header"):
            continue
        if isinstance(part, int):
            if not in_query:
                path += f"[{part}]"
        elif path:
            path += f".{part}"
        else:
            path = str(part)
    return path or "body"


def body_field_paths(model: Any) -> dict[str, list[str]]:
    """Map each field name of a ``model`` body, as clients spell it, to its paths in the body.

    A top-level field's path is its name. A field of a nested object is
    ``settings.identitySecret``, and one of list items ``articles[].title``.
    Returns an empty map when ``model`` is not a pydantic model.
    """
    paths: dict[str, list[str]] = {}

    def walk(current: Any, prefix: str, seen: tuple[type, ...]) -> None:
        for nested, suffix in _models_in(current):
            if nested in seen:
                continue
            for name, field in nested.model_fields.items():
                spelled = field.alias or name
                path = f"{prefix}{suffix}.{spelled}" if prefix or suffix else spelled
                paths.setdefault(spelled, []).append(path)
                walk(field.annotation, path, (*seen, nested))

    walk(model, "", ())
    return paths


def _models_in(annotation: Any, suffix: str = "") -> list[tuple[type[BaseModel], str]]:
    """Return the models that ``annotation`` may hold, each with ``[]`` per list level around it."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, suffix)]
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _models_in(arguments[0], suffix)
    if origin in (typing.Union, types.UnionType):
        return [found for argument in arguments for found in _models_in(argument, suffix)]
    if origin in (list, tuple, set, frozenset) and arguments:
        return _models_in(arguments[0], suffix + "[]")
    return []


def _misplaced_field(field: str, known: dict[str, list[str]]) -> tuple[str, str] | None:
    """Return the message and expectation for an unknown ``field`` whose name is a field elsewhere.

    ``field`` is the error's path, such as ``settings.identitySecret`` or
    ``articles[0].secret``; list indexes are compared as ``[]``.
    """
    parent, _, name = field.rpartition(".")
    generic_parent = re.sub(r"\[\d+\]", "[]", parent)
    elsewhere = [path for path in known.get(name, []) if path.rpartition(".")[0] != generic_parent]
    if not elsewhere:
        return None
    target = elsewhere[0].rpartition(".")[0]
    if not target:
        return (
            f"{name} is a top-level field, not a field of {parent}; move it out of {parent} "
            "to the top level of the body",
            f"{name} at the top level of the body",
        )
    # A target such as ``articles[]`` is a field of each item of that list.
    place = f"the items of {target[:-2]}" if target.endswith("[]") else target
    current = f"of {parent}" if parent else "a top-level field"
    return (
        f"{name} is a field of {place}, not {current}; move it into {place}",
        f"{name} inside {place}",
    )


def _json_kind(value: Any) -> str:
    """Name the JSON type of ``value`` with its value, such as ``the integer 5``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {as_sent(value)}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {as_sent(value)}"
    if isinstance(value, str):
        return f"the string {as_sent(value)}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return as_sent(value)


def _json_choices(expected: str) -> str:
    """Respell pydantic's ``'a', 'b' or 'c'`` list of literals with JSON's double quotes."""
    return expected.replace("'", '"')


def describe_expected(error: dict[str, Any]) -> str:
    """Return what the field must be, as a noun phrase for ``details.expected``."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in ("literal_error", "enum") and "expected" in ctx:
        return f"one of {_json_choices(str(ctx['expected']))}"
    if kind == "string_too_long":
        return f"at most {_count(ctx.get('max_length'), 'character')}"
    if kind == "string_too_short":
        return f"at least {_count(ctx.get('min_length'), 'character')}"
    if kind == "too_long":
        return f"at most {_count(ctx.get('max_length'), _unit(error))}"
    if kind == "too_short":
        return f"at least {_count(ctx.get('min_length'), _unit(error))}"
    if kind == "string_pattern_mismatch":
        return f"a string matching {ctx.get('pattern')}"
    if kind in _BOUND_WORDS:
        key, words = _BOUND_WORDS[kind]
        return f"a number {words} {ctx.get(key)}"
    if kind in _EXPECTED_BY_TYPE:
        return _EXPECTED_BY_TYPE[kind]
    if kind in ("value_error", "assertion_error"):
        # A validator of this package may end its reason with "; send ...",
        # which is then the expectation.
        reason = _validator_reason(error)
        if reason is None:
            return "a valid value"
        return reason.rpartition("; send ")[2] if "; send " in reason else reason
    if kind in _PYDANTIC_ERROR_TYPES:
        # pydantic's own message for a type not listed above would reach the client.
        log.warning("validation error type without own wording", extra={"error_type": kind})
        return "a valid value"
    # A PydanticCustomError of this package carries the expectation as its message.
    return str(error.get("msg") or "a valid value")


def _unit(error: dict[str, Any]) -> str:
    """Name what a length error counts: the characters of a string, else the items."""
    return "character" if isinstance(error.get("input"), str) else "item"


def _count(number: Any, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _validator_reason(error: dict[str, Any]) -> str | None:
    """Return the message of the ``ValueError`` that a field validator raised, or None.

    A validator's own ``ValueError`` or ``AssertionError`` states the rule in
    this API's words. A subclass from outside this package, such as a
    ``UnicodeEncodeError`` or a ``JSONDecodeError`` that escaped a check,
    carries Python's wording, so its text is never returned
    (``validation_failed`` logs it).
    """
    if _foreign_exception(error) is not None:
        return None
    ctx = error.get("ctx") or {}
    return str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")


def _foreign_exception(error: dict[str, Any]) -> BaseException | None:
    """Return the exception behind ``error`` when a module outside this package defines it."""
    raised = (error.get("ctx") or {}).get("error")
    if not isinstance(raised, BaseException):
        return None
    kind = type(raised)
    if kind in (ValueError, AssertionError) or kind.__module__.startswith(_PACKAGE):
        return None
    return raised


def _as_sent(error: dict[str, Any]) -> str:
    """Spell the value as the client wrote it: JSON in a body, plain text in a URL or header."""
    value = error.get("input")
    location = tuple(error.get("loc", ()))
    if location and location[0] in ("query", "path", "header") and isinstance(value, str):
        if not value:
            return '""'
        return value if len(value) <= 100 else value[:100] + "..."
    return as_sent(value)


def describe_message(
    field: str, error: dict[str, Any], known: dict[str, list[str]] | None = None
) -> str:
    """Word one of pydantic's errors about ``field`` as a sentence with the value and the fix.

    ``known`` maps the body's field names to their paths (``body_field_paths``),
    so that the error of an unknown field that belongs at another level names that level.
    """
    kind = error.get("type", "")
    if kind == "extra_forbidden" and known:
        misplaced = _misplaced_field(field, known)
        if misplaced is not None:
            return misplaced[0]
    value = error.get("input")
    sent = _as_sent(error)
    expected = describe_expected(error)
    ctx = error.get("ctx") or {}

    if field == "body" and kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"the request body must be a JSON object, not {_json_kind(value)}"
    if is_secret_field(field) and kind != "missing":
        return _describe_secret(field, error, expected)
    if kind == "missing":
        return f"{field} is missing; send {field}, which is required"
    if kind == "extra_forbidden":
        return f"{field} is not a field of this request; remove it or check its spelling"
    if kind in _TYPE_ERRORS:
        return f"{field} must be {expected}, not {_json_kind(value)}"
    if kind in ("literal_error", "enum"):
        return f"{field} {sent} is not {expected}; send one of them"
    if kind in _BOUND_WORDS:
        size = "too small" if kind.startswith("greater") else "too large"
        return f"{field} {sent} is {size}; send {expected}"
    if kind == "string_too_long" and isinstance(value, str):
        return f"{field} has {_count(len(value), 'character')}; send {expected}"
    if kind == "string_too_short":
        # Models that strip spaces measure the stripped text, so the sent
        # length is not the one that failed.
        return f"{field} {sent} is too short; send {expected}"
    if kind in ("too_long", "too_short") and "actual_length" in ctx:
        return f"{field} has {_count(ctx['actual_length'], _unit(error))}; send {expected}"
    if kind in ("value_error", "assertion_error"):
        reason = _validator_reason(error)
        if reason is None:
            return f"{field} {sent} is invalid; correct the value and send the request again"
        return f"{field} {sent} is invalid: {reason}"
    if kind == "id_not_trimmed":
        return (
            f"{field} {sent} has leading or trailing whitespace, an invisible character "
            "at either end or a control character; trim the whitespace and remove the "
            "invisible and control characters"
        )
    if kind == "name_invalid":
        return (
            f"{field} {sent} contains a control character or starts or ends with an "
            "invisible character; remove those characters"
        )
    if kind == "no_visible_character":
        return f"{field} has no visible character; send {expected}"
    if kind == "string_unicode":
        # A lone surrogate cannot be encoded as UTF-8, so the value is not echoed.
        return f"{field} contains a character that cannot be stored; remove it and send {expected}"

    return f"{field} {sent} is invalid; send {expected}"


def _describe_secret(field: str, error: dict[str, Any], expected: str) -> str:
    """Word an error about a secret field without its value, naming only its JSON type."""
    kind = error.get("type", "")
    value = error.get("input")
    if kind in _TYPE_ERRORS:
        return f"{field} must be {expected}, not {_json_type(value)}"
    if kind in ("string_too_short", "too_short"):
        return f"{field} is too short; send {expected}"
    if kind in ("string_too_long", "too_long"):
        return f"{field} is too long; send {expected}"
    return f"{field} is invalid; send {expected}"


def _json_type(value: Any) -> str:
    """Name the JSON type of ``value`` without its value, such as ``an integer``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "a value of another type"


def _shown_value(error: dict[str, Any]) -> Any:
    """Return the value for ``details.value``: as sent, or its size when it is large."""
    value = error.get("input")
    if error.get("type") == "missing":
        return None
    if isinstance(value, (dict, list)):
        encoded = json.dumps(value, default=str)
        return value if len(encoded) <= 500 else f"<{len(encoded)} bytes of JSON>"
    if isinstance(value, str):
        return shown_text(value)
    return value


def validation_failed(errors: list[dict[str, Any]], body_model: Any = None) -> ValidationFailed:
    """Describe pydantic's first error as a ``ValidationFailed``, and up to 20 in details.

    ``body_model`` is the route's body model, if any; it lets an unknown
    field's error name the level of the body where that field belongs.
    """
    first = errors[0]
    if first.get("type") == "value_error" and isinstance(
        (first.get("ctx") or {}).get("error"), ValidationFailed
    ):
        return first["ctx"]["error"]
    if first.get("type") == "json_invalid":
        return ValidationFailed(
            "the request body is not valid JSON",
            field="body",
            value=None,
            expected="a valid JSON document",
        )

    def path(error: dict[str, Any]) -> str:
        return field_path(tuple(error.get("loc", ())))

    foreign = _foreign_exception(first)
    if foreign is not None:
        # A check let an exception of Python or a library escape, which is a
        # bug of that check. The client gets a generic reason instead. Only the
        # type is logged, because the text may repeat a secret value.
        log.warning(
            "validator raised an unexpected exception",
            extra={"field": path(first), "error_type": type(foreign).__name__},
        )

    known = body_field_paths(body_model) if body_model is not None else {}
    details: dict[str, Any] = {}
    if len(errors) > 1:
        details["errors"] = [
            {"field": path(item), "message": describe_message(path(item), item, known)}
            for item in errors[:20]
        ]
    field = path(first)
    expected = describe_expected(first)
    if first.get("type") == "extra_forbidden" and known:
        misplaced = _misplaced_field(field, known)
        if misplaced is not None:
            expected = misplaced[1]
    return ValidationFailed(
        describe_message(field, first, known),
        field=field,
        value=_shown_value(first),
        expected=expected,
        details=details,
    )

"""JSON parsing that rejects numbers no store or client can hold.

Python's parser turns ``1e400`` into infinity and ``1e-400`` into 0, and
accepts ``NaN`` and ``Infinity``, which JSON does not allow; an integer may
have any number of digits. Stored, such a value would come back as ``null``, fail to insert,
or lose digits in every JavaScript client. So a number must be a finite
64-bit float or an integer within the signed 64-bit range.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .errors import ValidationFailed

# The deepest nesting of objects and arrays that a body or frame may have.
# The free-form fields (metadata, a handoff's context) nest at most 5 levels
# inside a body, so no valid body nests deeper than 6.
MAX_DEPTH = 32

_CONTAINERS = (dict, list)

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

FLOAT_EXPECTED = (
    "a finite number within the range of a 64-bit float: at most about ±1.8e308, "
    "and 0 or at least about 4.9e-324 in magnitude"
)
INT_EXPECTED = f"an integer from {INT64_MIN} to {INT64_MAX}"


class _OutOfRange:
    """A number that the parser met and no 64-bit value can hold, kept as its text."""

    __slots__ = ("expected", "text")

    def __init__(self, text: str, expected: str) -> None:
        self.text = text
        self.expected = expected


class _DuplicateKeys(dict):  # type: ignore[type-arg]
    """An object in which the parser met ``duplicate`` more than once; the last value is kept."""

    __slots__ = ("duplicate",)


def _mark_duplicate(document: dict[str, Any], pairs: list[tuple[str, Any]]) -> _DuplicateKeys:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            break
        seen.add(key)
    marked = _DuplicateKeys(document)
    marked.duplicate = key
    return marked


def _find_duplicate(value: Any, path: str) -> str | None:
    """Return the path of the first key that an object of ``value`` repeats, or None."""
    if isinstance(value, _DuplicateKeys):
        return f"{path}.{value.duplicate}" if path else value.duplicate
    if isinstance(value, dict):
        items: Any = ((f"{path}.{key}" if path else str(key), item) for key, item in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(value))
    else:
        return None
    for item_path, item in items:
        found = _find_duplicate(item, item_path)
        if found:
            return found
    return None


def _find(value: Any, path: str) -> tuple[str, _OutOfRange] | None:
    if isinstance(value, _OutOfRange):
        return path, value
    if isinstance(value, dict):
        for key, item in value.items():
            found = _find(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _find(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _too_deep(root: str, depth: int | None) -> ValidationFailed:
    levels = f"{depth} levels" if depth is not None else f"more than {MAX_DEPTH} levels"
    return ValidationFailed(
        f"the {root} nests {levels} deep; the limit is {MAX_DEPTH} levels of objects and arrays",
        field=root,
        value=f"<{levels}>",
        expected=f"JSON nested at most {MAX_DEPTH} levels deep",
    )


def _depth_over_limit(document: Any) -> int | None:
    """Return the nesting depth of ``document`` when it exceeds ``MAX_DEPTH``, else None.

    The walk goes level by level, not by recursion, so no depth that the
    parser accepted can exhaust Python's recursion limit here.
    """
    level = [document] if type(document) in _CONTAINERS else []
    depth = 0
    while level:
        depth += 1
        deeper: list[Any] = []
        for container in level:
            items = container.values() if type(container) is dict else container
            deeper.extend([item for item in items if type(item) in _CONTAINERS])
        level = deeper
    return depth if depth > MAX_DEPTH else None


def _mantissa(number: str) -> str:
    """Return the digits of a JSON number before its exponent."""
    return number.lower().partition("e")[0]


def loads(text: str | bytes, *, root: str = "body") -> Any:
    """Parse a JSON document; raise ``ValidationFailed`` for a number out of range or deep nesting.

    Other syntax errors raise ``ValueError`` (``json.JSONDecodeError``) as
    ``json.loads`` does. ``root`` names the document in the error when the
    number or the nesting concerns the whole document. Bytes that are not
    strict UTF-8 raise ``UnicodeDecodeError``. ``json.loads`` would decode
    them with "surrogatepass", which turns CESU-8's encoded surrogates (such
    as ED A0 80) into lone surrogates that no store can encode.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")

    out_of_range = False

    def parse_float(number: str) -> float | _OutOfRange:
        nonlocal out_of_range
        value = float(number)
        # A nonzero number below the smallest float, such as 1e-400, parses as 0.0.
        underflow = value == 0.0 and any(digit in "123456789" for digit in _mantissa(number))
        if math.isfinite(value) and not underflow:
            return value
        out_of_range = True
        return _OutOfRange(number, FLOAT_EXPECTED)

    def parse_int(number: str) -> int | _OutOfRange:
        nonlocal out_of_range
        try:
            value = int(number)
        except ValueError:  # more digits than Python converts (4300 by default)
            value = None
        if value is not None and INT64_MIN <= value <= INT64_MAX:
            return value
        out_of_range = True
        return _OutOfRange(number, INT_EXPECTED)

    has_duplicates = False

    def object_from_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal has_duplicates
        document = dict(pairs)
        if len(document) == len(pairs):
            return document
        has_duplicates = True
        return _mark_duplicate(document, pairs)

    def parse_constant(name: str) -> _OutOfRange:
        nonlocal out_of_range
        out_of_range = True
        return _OutOfRange(name, FLOAT_EXPECTED)

    try:
        document = json.loads(
            text,
            parse_float=parse_float,
            parse_int=parse_int,
            parse_constant=parse_constant,
            object_pairs_hook=object_from_pairs,
        )
    except RecursionError:
        # The parser gives up near Python's recursion limit, 1000 frames by default.
        raise _too_deep(root, None) from None

    # A document with no more opening brackets than the limit cannot nest
    # deeper, and counting them is far cheaper than walking the document.
    brackets = text.count("[") + text.count("{")
    if brackets > MAX_DEPTH:
        depth = _depth_over_limit(document)
        if depth is not None:
            raise _too_deep(root, depth)
    duplicate = _find_duplicate(document, "") if has_duplicates else None
    if duplicate is not None:
        raise ValidationFailed(
            f"{duplicate} appears more than once in the {root}; send each key of an object once",
            field=duplicate,
            value=None,
            expected="a JSON object whose keys are all different",
        )
    if out_of_range:
        found = _find(document, "")
        assert found is not None
        path, number = found
        shown = (
            number.text
            if len(number.text) <= 40
            else f"{number.text[:20]}...({len(number.text)} characters)"
        )
        raise ValidationFailed(
            f"{path or root}: the number {shown} is out of range; send {number.expected}",
            field=path or root,
            value=shown,
            expected=number.expected,
        )
    return document

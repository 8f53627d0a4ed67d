"""Input rules shared by every domain: text, metadata and URL values."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, ValidationInfo
from pydantic_core import PydanticCustomError

from .errors import ValidationFailed
from .json_values import as_sent
from .knowledge.urls import link_problem

MAX_METADATA_BYTES = 16 * 1024
MAX_METADATA_DEPTH = 5

# One encoder for every size check, because ``json.dumps`` with options builds one per call.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

# Metadata keys whose values browsers and dashboards may render as links,
# compared lower-cased without underscores or hyphens: these names, and any
# name that ends with one of the suffixes, such as ``avatarUrl`` or ``imageHref``.
URL_METADATA_KEYS = {"referrer", "referer", "website", "homepage", "srcset", "poster"}
URL_METADATA_SUFFIXES = ("url", "urls", "uri", "uris", "href", "link", "links")


# Unicode categories of characters that draw nothing on their own. They are
# spaces and line separators (Z*), controls (Cc), format characters (Cf)
# such as the zero-width space, joiners and the byte order mark, surrogates
# (Cs), and combining marks (M*), which only show on a base character.
INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Mn", "Mc", "Me"})
# Letters and symbols that fonts draw as blank space: the Hangul fillers and
# the empty Braille pattern.
BLANK_CHARACTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
VISIBLE_EXPECTED = (
    "text with at least one visible character, not only spaces, invisible or control "
    "characters, or combining marks"
)


def has_visible_character(value: str) -> bool:
    """Tell whether ``value`` has a character that draws something on its own."""
    # Most text starts with a printable ASCII character other than space,
    # which is visible, so the per-character category lookups are skipped.
    if value and "!" <= value[0] <= "~":
        return True
    return any(
        char not in BLANK_CHARACTERS and unicodedata.category(char) not in INVISIBLE_CATEGORIES
        for char in value
    )


def _require_visible(value: str) -> str:
    if not has_visible_character(value):
        raise PydanticCustomError("no_visible_character", VISIBLE_EXPECTED)
    return value


# Annotate a text field with this to apply the rule: ``Annotated[str, Visible]``.
Visible = AfterValidator(_require_visible)
VisibleText = Annotated[str, Visible]


def _none_if_invisible(value: str | None) -> str | None:
    return value if value is None or has_visible_character(value) else None


# Optional free text that shows nothing is stored as no text: ``Annotated[str | None, OrNone]``.
OrNone = AfterValidator(_none_if_invisible)


ID_EXPECTED = (
    "the id without leading or trailing whitespace or invisible characters, "
    "and without control characters"
)
# Categories of characters that may not start or end an id: spaces and
# separators, controls and format characters such as the zero-width space,
# the byte order mark and bidirectional marks. Combining marks may end one,
# as in a decomposed "café".
_ID_EDGE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


# An emoji tag sequence such as the flag of Scotland: a black flag, tag
# characters (U+E0020 to U+E007E) and the cancel tag U+E007F.
_FLAG_TAG_SEQUENCE_END = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f$")


def _invisible_at_edge(char: str) -> bool:
    # The blank letters and symbols draw as space, though their categories are Lo and So.
    if char in BLANK_CHARACTERS:
        return True
    return unicodedata.category(char) in _ID_EDGE_CATEGORIES


def _has_invisible_edge(value: str) -> bool:
    """Tell whether the first or last character of non-empty ``value`` draws nothing."""
    # A combining mark or variation selector first has no base character to draw on.
    if _invisible_at_edge(value[0]) or unicodedata.category(value[0]).startswith("M"):
        return True
    # Tag characters are format characters, and only the cancel tag that
    # ends a flag's tag sequence may end a value.
    if value[-1] == "\U000e007f" and _FLAG_TAG_SEQUENCE_END.search(value) is not None:
        return False
    return _invisible_at_edge(value[-1])


# The 65 code points of Unicode's general category Cc (control).
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _require_trimmed_id(value: Any) -> Any:
    # A stored id is compared byte for byte, so " x" or "\u200bx" would name
    # a record apart from "x" that no one could tell from it in a listing.
    # Text with nothing visible gets the clearer error of its type's other checks.
    if not isinstance(value, str) or not has_visible_character(value):
        return value
    if (
        value != value.strip()
        or _has_invisible_edge(value)
        or _CONTROL_CHARACTER.search(value) is not None
    ):
        raise PydanticCustomError("id_not_trimmed", ID_EXPECTED)
    return value


# Annotate an id that integrators supply with this: ``Annotated[str, ..., TrimmedId]``.
# It runs before the type's other checks, so a pattern mismatch does not hide it.
TrimmedId = BeforeValidator(_require_trimmed_id)


NAME_EXPECTED = (
    "a name on one line without control characters (such as tab, newline or U+0007) and "
    "without an invisible character (such as a zero-width space) at either end"
)
# Control characters and the line and paragraph separators, which break a line too.
_NOT_IN_NAMES = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _require_clean_name(value: str) -> str:
    # A name or subject is one line of display text, so no control character
    # or line break has a use in it, not even tab, unlike in message content.
    # Whitespace at either end is stripped before this check runs.
    if _NOT_IN_NAMES.search(value) is not None or _has_invisible_edge(value):
        raise PydanticCustomError("name_invalid", NAME_EXPECTED)
    return value


# Annotate one line of display text, such as a name or a subject, with this
# after ``StringConstraints(strip_whitespace=True, ...)`` and ``Visible``.
CleanName = AfterValidator(_require_clean_name)
# The name of a mailbox, agent, API key or organization, stored without
# whitespace at either end.
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Visible,
    CleanName,
]


# Field types that several requests share, so a value means and is checked the
# same on every route that takes it.
EMAIL_EXPECTED = (
    "an email address whose domain has a dot, such as alex@example.com, at most 320 characters"
)
# A local part, "@", then a domain of two or more non-empty dot-separated labels,
# so "a@b", "a@b." and "a@.b" are rejected.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def _require_email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise PydanticCustomError("email_invalid", EMAIL_EXPECTED)
    return value


EmailAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=320), AfterValidator(_require_email)
]
# How many times something happened before, such as previous attempts or interactions.
PriorCount = Annotated[int, Field(ge=0, le=1_000_000)]
CustomerTier = Annotated[str, StringConstraints(max_length=64)]


def reject_null(value: Any, info: ValidationInfo) -> Any:
    """Raise ``ValidationFailed`` for a JSON null in a PATCH field that always has a value.

    Use it as a field validator of the fields that cannot be cleared, so the
    whole request is rejected before anything is written.
    """
    if value is None:
        raise ValidationFailed(
            f"{info.field_name} cannot be null",
            field=info.field_name,
            value=None,
            expected="a value, or leave the field out to keep it unchanged",
        )
    return value


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


def check_metadata(value: dict[str, Any], field: str = "metadata") -> dict[str, Any]:
    """Enforce the metadata limits: a JSON object of at most 16 KiB and 5 levels.

    Every string under a key that names a URL, at any depth below that key,
    must be a safe link: an absolute http(s) URL or a path starting with one
    ``/`` (``knowledge.urls.safe_link``). Such keys count at every level, so
    nested values such as ``page.url`` are checked too.
    """
    size = len(_COMPACT_JSON.encode(value).encode())
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
    _check_urls(value, field)
    return value


def _is_url_key(key: str) -> bool:
    normalised = key.lower().replace("_", "").replace("-", "")
    return normalised in URL_METADATA_KEYS or normalised.endswith(URL_METADATA_SUFFIXES)


def _check_urls(value: Any, path: str, url_key: bool = False) -> None:
    """Raise ``ValidationFailed`` for the first string under a URL-named key that is no link.

    Every string inside a list or object under such a key is checked, so a
    link cannot hide one level down, as in ``{"url": {"href": ...}}``.
    """
    # A value that is neither a container nor under a URL-named key has
    # nothing to check, so it is skipped without building its path.
    if isinstance(value, dict):
        for key, item in value.items():
            under_url_key = url_key or _is_url_key(str(key))
            if under_url_key or isinstance(item, (dict, list)):
                _check_urls(item, f"{path}.{key}", under_url_key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if url_key or isinstance(item, (dict, list)):
                _check_urls(item, f"{path}[{index}]", url_key)
    elif url_key and isinstance(value, str) and (problem := link_problem(value)) is not None:
        raise ValidationFailed(
            f"{path} {as_sent(value)} is not an allowed link because {problem}; send an "
            "absolute http or https URL such as https://example.com/pricing, or a path "
            "starting with a single / such as /pricing",
            field=path,
            value=value[:200],
            expected="an absolute URL starting with http:// or https://, or a path starting "
            "with a single /",
        )


def check_content(value: str, field: str = "content", maximum: int = 10_000) -> str:
    """Enforce 1..maximum Unicode code points with at least one visible character."""
    if not value.strip():
        raise ValidationFailed(
            f"{field} is empty",
            field=field,
            value=value,
            expected=f"1 to {maximum} characters of text",
        )
    if not has_visible_character(value):
        raise ValidationFailed(
            f"{field} has no visible character",
            field=field,
            value=value[:200],
            expected=VISIBLE_EXPECTED,
        )
    if len(value) > maximum:
        raise ValidationFailed(
            f"{field} has {len(value)} characters; the limit is {maximum}",
            field=field,
            value=f"<{len(value)} characters>",
            expected=f"at most {maximum} characters (Unicode code points)",
        )
    return value

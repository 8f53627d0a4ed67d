"""Headers that make a request ambiguous: a repeated single-valued header, or no Host.

Servers, proxies and caches disagree on which of two ``Host`` or
``Content-Type`` headers counts, so the server takes neither and rejects
the request with 400. HTTP/1.1 also requires exactly one ``Host`` header
(RFC 9112, section 3.2). An HTTP/1.0 request may leave it out.

Repeated ``Authorization`` (401) and ``Idempotency-Key`` headers are
rejected where they are read, and the HTTP parser rejects a repeated
``Content-Length``. A request with both ``Transfer-Encoding`` and
``Content-Length`` is rejected too, because a proxy in front may frame its
body differently (request smuggling).

A header value with a control character other than tab (U+0000 to U+001F
and U+007F) is rejected with 400 as well, because RFC 9110, section 5.5,
does not allow one. llhttp rejects it in its parser and h11 0.16 passes it
on, so both checks name the header in the same error.
"""

from __future__ import annotations

import re

from starlette.types import Scope

from ..errors import ValidationFailed, shown_text

# Headers that carry one value, by their lower-case name and as they are
# named in errors.
SINGLE_VALUED_HEADERS = {
    b"host": "Host",
    b"content-type": "Content-Type",
    b"origin": "Origin",
    b"x-campfire-mock": "X-Campfire-Mock",
}

# A header name: an RFC 9110 token.
_HEADER_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A control character other than tab, which no header value may contain.
_CONTROL_CHARACTER = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def find_ambiguous_header(scope: Scope) -> ValidationFailed | None:
    """Return the error for an ambiguous request head, else None.

    That is a header value with a control character, a repeated
    single-valued header, Transfer-Encoding with Content-Length, or an
    HTTP/1.1 request without Host.
    """
    values: dict[bytes, list[str]] = {}
    for key, value in scope.get("headers", ()):
        invalid = control_character_error(key, value)
        if invalid is not None:
            return invalid
        if key in SINGLE_VALUED_HEADERS:
            values.setdefault(key, []).append(value.decode("latin-1"))

    for key, name in SINGLE_VALUED_HEADERS.items():
        sent = values.get(key, [])
        if len(sent) > 1:
            return ValidationFailed(
                f"{name} was sent {len(sent)} times; send the header once, with one value",
                field=name,
                value=[shown_text(value) for value in sent],
                expected=f"one {name} header",
            )

    if _has_header(scope, b"transfer-encoding") and _has_header(scope, b"content-length"):
        # h11 lets Transfer-Encoding override Content-Length, and llhttp
        # rejects the pair, so both parsers end up rejecting it.
        return ValidationFailed(
            "the request has both Transfer-Encoding and Content-Length; send one of them",
            field="Content-Length",
            value=None,
            expected="Transfer-Encoding or Content-Length, not both",
        )

    if b"host" not in values and scope.get("http_version") == "1.1":
        return ValidationFailed(
            "the request has no Host header, which HTTP/1.1 requires; send Host with the "
            "server's name and port, such as 'Host: support.example.com'",
            field="Host",
            value=None,
            expected="one Host header",
        )
    return None


def _has_header(scope: Scope, name: bytes) -> bool:
    return any(key == name for key, _ in scope.get("headers", ()))


def control_character_error(name: bytes, value: bytes) -> ValidationFailed | None:
    """Return the error for a header ``value`` with a control character other than tab."""
    # The search runs in C, which costs less than a loop over the bytes of every header value.
    found = _CONTROL_CHARACTER.search(value)
    if found is None:
        return None
    byte = value[found.start()]
    display_name = header_display_name(name)
    # The value is left out of the error, because it may be a credential.
    return ValidationFailed(
        f"the {display_name} header value contains the control character U+{byte:04X}; "
        "send header values without control characters other than tab",
        field=display_name,
        value=None,
        expected="a header value of visible characters, spaces and tabs",
    )


def find_control_character_in_head(head: bytes) -> ValidationFailed | None:
    """Return the error for the first header line of raw request bytes with a control character.

    NOTE: only the header lines in ``head`` are looked at, so a header
    whose name arrived in an earlier read than its value is not found, and
    such a request gets the parser's generic 400 envelope.
    """
    for line in head.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if colon and _HEADER_NAME.fullmatch(name):
            invalid = control_character_error(name, value)
            if invalid is not None:
                return invalid
    return None


def header_display_name(name: bytes) -> str:
    """Return a header name as errors show it, such as ``User-Agent`` for ``user-agent``."""
    lower = name.lower()
    known = SINGLE_VALUED_HEADERS.get(lower)
    if known is not None:
        return known
    text = lower.decode("latin-1")
    return "-".join(part.capitalize() for part in text.split("-"))

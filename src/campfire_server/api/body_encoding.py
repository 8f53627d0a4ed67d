"""The media type and encoding that a JSON request body must have: application/json in UTF-8.

JSON exchanged between systems must be UTF-8 without a byte order mark (RFC
8259, section 8.1). Python's ``json.loads`` would also take bytes in UTF-16
or UTF-32, with or without a mark, and a UTF-8 mark. Those are rejected
here, before parsing, with an error that asks for UTF-8.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable

from ..errors import UnsupportedMediaType, ValidationFailed

_UTF8_NAMES = {"utf-8", "utf8"}

# The UTF-32 marks come first because the little-endian UTF-32 mark starts
# with the little-endian UTF-16 one.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


# The maximum length of a Content-Type value that an error repeats.
MAX_SHOWN_HEADER_CHARS = 100


def check_media_type(header: str | None) -> None:
    """Raise ``UnsupportedMediaType`` unless ``header`` is a JSON type with no charset but UTF-8."""
    media_type, *parameters = (header or "").split(";")
    media_type = media_type.strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        # A header without a media type, such as ";;;==", is named as sent.
        sent = _cut_header(_readable(media_type or (header or "").strip()))
        if sent:
            message = f"content type {sent!r} is not supported"
        else:
            message = "the Content-Type header is missing or empty"
        raise UnsupportedMediaType(
            f"{message}; send the body as application/json",
            details={"value": sent, "expected": "application/json"},
        )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() != "charset":
            continue
        # The value is compared without case but repeated as sent. Quotes around
        # it are HTTP syntax (a quoted string), not part of the charset name,
        # and a quoted value of only spaces is as empty as no value.
        charset = value.strip().strip('"').strip()
        if not charset:
            sent = _cut_header(_readable(parameter.strip()))
            raise UnsupportedMediaType(
                f"the charset parameter {sent!r} is empty; encode the JSON body as UTF-8 and "
                "send charset=utf-8 or no charset",
                details={"field": "Content-Type", "value": sent, "expected": "utf-8"},
            )
        if charset.lower() not in _UTF8_NAMES:
            shown = _cut_header(_readable(charset))
            raise UnsupportedMediaType(
                f"charset {shown!r} is not supported; encode the JSON body as UTF-8 and "
                "send charset=utf-8 or no charset",
                details={"field": "Content-Type", "value": shown, "expected": "utf-8"},
            )


def _readable(value: str) -> str:
    """Return a header value, decoded from latin-1 by the server, as the client wrote it.

    Bytes that form valid UTF-8 are shown as the characters they encode, so
    ``charset=ütf-8`` is repeated as "ütf-8". Any other non-ASCII byte is
    shown as a ``\\xNN`` escape.
    """
    raw = value.encode("latin-1", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("ascii", errors="backslashreplace")


def _cut_header(value: str) -> str:
    """Cut a header value to ``MAX_SHOWN_HEADER_CHARS`` characters, ending a cut one with "..."."""
    if len(value) <= MAX_SHOWN_HEADER_CHARS:
        return value
    return value[:MAX_SHOWN_HEADER_CHARS] + "..."


def check_utf8_start(body: bytes) -> None:
    """Raise ``ValidationFailed`` for a body that starts with a byte order mark or is UTF-16/32.

    A JSON document in UTF-16 or UTF-32 has a NUL byte among its first four
    bytes, which no UTF-8 JSON document has.
    """
    for mark, encoding in _BYTE_ORDER_MARKS:
        if body.startswith(mark):
            raise ValidationFailed(
                f"the request body starts with a {encoding} byte order mark; send the JSON "
                "body encoded as UTF-8, without a byte order mark",
                field="body",
                value=None,
                expected="a JSON document encoded as UTF-8 without a byte order mark",
            )
    if b"\x00" in body[:4]:
        raise ValidationFailed(
            "the request body has a NUL byte among its first four bytes, as UTF-16 or UTF-32 "
            "text has; send the JSON body encoded as UTF-8",
            field="body",
            value=None,
            expected="a JSON document encoded as UTF-8 without a byte order mark",
        )


def check_content_coding(headers: Iterable[tuple[bytes, bytes]]) -> None:
    """Raise ``UnsupportedMediaType`` unless the body is sent without a content coding.

    The server decodes no compressed body, so a gzip body would otherwise be
    parsed as if it were plain JSON. Codings are compared without case, and
    the error repeats the header as sent, shown like a charset's value.
    """
    values = [
        value.decode("latin-1").strip() for key, value in headers if key == b"content-encoding"
    ]
    codings = [coding.strip().lower() for value in values for coding in value.split(",")]
    if any(coding and coding != "identity" for coding in codings):
        shown = _cut_header(_readable(", ".join(value for value in values if value)))
        raise UnsupportedMediaType(
            f"Content-Encoding {shown!r} is not supported; send the body uncompressed, "
            "without a Content-Encoding header",
            details={"field": "Content-Encoding", "value": shown, "expected": "identity"},
        )

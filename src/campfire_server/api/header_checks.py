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
"""

from __future__ import annotations

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


def find_ambiguous_header(scope: Scope) -> ValidationFailed | None:
    """Return the error for an ambiguous request head, else None.

    That is a repeated single-valued header, Transfer-Encoding with
    Content-Length, or an HTTP/1.1 request without Host.
    """
    values: dict[bytes, list[str]] = {}
    for key, value in scope.get("headers", ()):
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

"""The checks of a WebSocket opening handshake (RFC 6455, section 4.2.1) before the upgrade.

uvicorn hands every request with ``Connection: Upgrade`` and ``Upgrade:
websocket`` to the websockets library, which responds to a handshake that
it rejects with its own plain-text 400. The protocol classes (``framing.py``)
run these checks first and upgrade only a handshake that passes them. Any
other one stays an HTTP request, so the request pipeline rejects it with
the error envelope, logs it and counts it, like any other request.

The checks cover what the websockets library checks, with the same header
parsers, so a handshake that passes here is not rejected there.

NOTE: the library also rejects a handshake whose head it cannot parse (more
than 128 headers, a line over 8 KiB) and permessage-deflate parameters that
it cannot negotiate; those still get its plain-text response.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from typing import Any

from websockets.exceptions import InvalidHeaderFormat
from websockets.headers import parse_connection, parse_extension, parse_subprotocol, parse_upgrade

from ..errors import MethodNotAllowed, ServiceError, UpgradeRequired, ValidationFailed, shown_text
from .header_checks import find_ambiguous_header

# The only version of the protocol that RFC 6455 defines, and the one that
# every browser sends.
WEBSOCKET_VERSION = "13"

_KEY_EXPECTED = "the base64 encoding of 16 random bytes (24 characters), new for each handshake"
_KEY_FIX = (
    "send one Sec-WebSocket-Key header with the base64 encoding of 16 random bytes, "
    "such as 'dGhlIHNhbXBsZSBub25jZQ=='; WebSocket clients and browsers do this for you"
)

_PARSERS: dict[bytes, tuple[str, Callable[[str], Any]]] = {
    b"connection": ("Connection", parse_connection),
    b"upgrade": ("Upgrade", parse_upgrade),
    b"sec-websocket-extensions": ("Sec-WebSocket-Extensions", parse_extension),
    b"sec-websocket-protocol": ("Sec-WebSocket-Protocol", parse_subprotocol),
}


def requests_websocket(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Tell whether the Connection and Upgrade headers request a switch to WebSocket."""
    connection = upgrade = False
    for key, value in headers:
        if key == b"connection":
            tokens = value.lower().split(b",")
            connection = connection or any(token.strip() == b"upgrade" for token in tokens)
        elif key == b"upgrade":
            tokens = value.lower().split(b",")
            upgrade = upgrade or any(token.strip() == b"websocket" for token in tokens)
    return connection and upgrade


def handshake_error(scope: Any) -> ServiceError | None:
    """Return the error of a WebSocket handshake that RFC 6455 rejects, or None.

    ``scope`` is an ASGI HTTP scope, or the partial one that uvicorn has
    built once it parsed the request head. A request that does not ask for
    WebSocket has no handshake error.
    """
    headers = scope.get("headers", ())
    if not requests_websocket(headers):
        return None
    if scope.get("method") != "GET":
        return MethodNotAllowed(
            f"a WebSocket handshake must use GET, not {scope.get('method')}",
            details={"field": "method", "value": scope.get("method"), "expected": "GET"},
            headers={"Allow": "GET"},
        )
    version = scope.get("http_version", "1.1")
    if version != "1.1":
        return ValidationFailed(
            f"a WebSocket handshake must use HTTP/1.1, not HTTP/{version}",
            field="request",
            value=f"HTTP/{version}",
            expected="HTTP/1.1",
        )

    values: dict[bytes, list[str]] = {}
    for key, value in headers:
        values.setdefault(key, []).append(value.decode("latin-1"))
    return (
        find_ambiguous_header(scope)
        or _upgrade_error(values.get(b"upgrade", []))
        or _key_error(values.get(b"sec-websocket-key", []))
        or _version_error(values.get(b"sec-websocket-version", []))
        or _format_error(values)
    )


def _upgrade_error(upgrades: list[str]) -> ValidationFailed | None:
    # The websockets library accepts only the one protocol "websocket" across
    # all Upgrade headers, and rejects any other handshake with a plain 426.
    tokens = [token.strip().lower() for upgrade in upgrades for token in upgrade.split(",")]
    if tokens == ["websocket"]:
        return None
    if len(upgrades) > 1:
        problem = f"Upgrade was sent {len(upgrades)} times"
    else:
        problem = f"the Upgrade header {shown_text(upgrades[0])!r} names more than websocket"
    return ValidationFailed(
        f"{problem}; send one 'Upgrade: websocket' header",
        field="Upgrade",
        value=[shown_text(upgrade) for upgrade in upgrades],
        expected="websocket",
    )


def _key_error(keys: list[str]) -> ValidationFailed | None:
    if not keys:
        return ValidationFailed(
            f"the WebSocket handshake has no Sec-WebSocket-Key header; {_KEY_FIX}",
            field="Sec-WebSocket-Key",
            value=None,
            expected=_KEY_EXPECTED,
        )
    if len(keys) > 1:
        return ValidationFailed(
            f"Sec-WebSocket-Key was sent {len(keys)} times; {_KEY_FIX}",
            field="Sec-WebSocket-Key",
            value=[shown_text(key) for key in keys],
            expected=_KEY_EXPECTED,
        )
    try:
        decoded = base64.b64decode(keys[0].encode("latin-1"), validate=True)
    except binascii.Error:
        decoded = b""
    if len(decoded) != 16:
        return ValidationFailed(
            f"Sec-WebSocket-Key {shown_text(keys[0])!r} is not the base64 encoding of "
            f"16 bytes; {_KEY_FIX}",
            field="Sec-WebSocket-Key",
            value=shown_text(keys[0]),
            expected=_KEY_EXPECTED,
        )
    return None


def _version_error(versions: list[str]) -> ServiceError | None:
    # RFC 6455 (section 4.4) has the server name the versions it supports in
    # every such response.
    supported = {"Sec-WebSocket-Version": WEBSOCKET_VERSION}
    fix = f"send 'Sec-WebSocket-Version: {WEBSOCKET_VERSION}', the version of RFC 6455"
    if len(versions) != 1:
        problem = (
            "the WebSocket handshake has no Sec-WebSocket-Version header"
            if not versions
            else f"Sec-WebSocket-Version was sent {len(versions)} times"
        )
        error = ValidationFailed(
            f"{problem}; {fix}",
            field="Sec-WebSocket-Version",
            value=[shown_text(version) for version in versions] or None,
            expected=WEBSOCKET_VERSION,
        )
        error.headers.update(supported)
        return error
    if versions[0].strip() != WEBSOCKET_VERSION:
        # RFC 6455, section 4.2.2: a version the server does not speak gets
        # 426 Upgrade Required with the versions it does speak.
        return UpgradeRequired(
            f"WebSocket version {shown_text(versions[0])!r} is not supported; {fix}",
            details={
                "field": "Sec-WebSocket-Version",
                "value": shown_text(versions[0]),
                "expected": WEBSOCKET_VERSION,
            },
            headers={"Upgrade": "websocket", "Connection": "Upgrade", **supported},
        )
    return None


def _format_error(values: dict[bytes, list[str]]) -> ValidationFailed | None:
    for key, (name, parse) in _PARSERS.items():
        for value in values.get(key, []):
            try:
                parse(value)
            except InvalidHeaderFormat as error:
                # The library's text is "<what> at <position> in <header>".
                reason = str(error.value).rsplit(" in ", 1)[0]
                return ValidationFailed(
                    f"the {name} header {shown_text(value)!r} is not valid ({reason}); "
                    "send it as RFC 6455 defines it, or leave it out",
                    field=name,
                    value=shown_text(value),
                    expected=f"a valid {name} header",
                )
    return None

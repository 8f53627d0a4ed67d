"""The request pipeline: every step that runs before and around the routes, in one ASGI layer.

An HTTP request goes through these steps in order, and each may send the
response itself and stop there:

1. Context: the request id (``X-Request-ID``), and after the response one
   log line and the metrics (``access_log.py``), with the status that the
   client received; an error that escapes gets a 500 envelope.
2. Access: an ambiguous header (``header_checks.py``), a CORS preflight,
   an invalid ``X-Campfire-Mock``, and the address rate limit of a request
   without a credential that its route checks (any ``Authorization``
   header on a public page is ignored).
3. Methods: on a WebSocket path, the error of a handshake that the web
   server did not upgrade (``websocket_handshake.py``) or 426; OPTIONS,
   405 on a literal path, and HEAD where only GET has a route. Then 404
   where no route matches the path, and 405 where no route serves the
   method.
4. Credential: for a route that takes the caller's principal, the one
   ``Authorization`` header (401 or 403) and the caller's rate limit (429),
   which for a credential that fails is the limit of the client address.
   Then whether the route admits the caller (403, ``route_access.py``).
   The route's dependency gets the principal from the scope state and
   checks it again.
5. Body guard: a path or query parameter that is not UTF-8 once
   percent-decoded and a NUL in the URL, then for POST, PUT and PATCH the transfer
   coding, the size limit, the media type and the JSON syntax.
6. The application (idempotent replays, then FastAPI's routing), or for a
   route with a lean handler and a request without a query string or
   ``Idempotency-Key``, that handler at once (``direct.py``).

So a caller without a valid credential never reaches the JSON parser, and
its status does not depend on the body. A response sent before the body
was read closes the connection, after reading and discarding a bounded
part of the body so that the client is still reading when it arrives.

Every response carries the request id. Every response after the access
step also carries the headers that all responses share (rate limit, CORS,
mock flag, security headers), and so does its rate-limit rejection.

The steps once were one middleware each, with a coroutine and most with a
wrapped ``send`` per layer. Timed in one process with a stub application,
the six layers took about 80 µs per message POST and this one about 60 µs.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from .. import mock
from ..errors import NotFound, RequestTimeout, ServiceError, ValidationFailed, shown_text
from ..logs import request_id_var
from ..realtime.gateway import RAW_SEND_KEY
from . import access, methods
from .access_log import (
    CLIENT_CLOSED_REQUEST,
    REJECTION_REASON,
    SERVER_RESPONSE_STATUS,
    claim_request_id,
    record_request,
)
from .deps import admit, repeated_authorization
from .direct import DirectRoute
from .errors import error_body
from .header_checks import find_ambiguous_header
from .middleware import (
    DEFAULT_DISCARD_LIMITS,
    BodyGuard,
    DiscardLimits,
    _header,
    find_invalid_utf8_in_url,
    find_nul_in_url,
    may_have_body,
    replay,
    send_error,
    send_error_before_body,
)
from .route_table import RouteTable, method_not_allowed, route_template
from .websocket_handshake import handshake_error, requests_websocket

error_log = logging.getLogger(__name__)

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# The exceptions of a handshake's send or receive once its client has
# disconnected. uvicorn's ClientDisconnected is an OSError, and Starlette
# raises WebSocketDisconnect.
_DISCONNECTS = (OSError, WebSocketDisconnect)
# The scope state key set when the client disconnected while sending the body.
_CLIENT_CLOSED = "client_closed"


class _Response:
    """The ``send`` of one request, which adds the request id and the shared headers."""

    __slots__ = ("_send", "_request_id", "shared", "status", "started")

    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self._request_id = request_id.encode()
        # Set once the access step has passed; until then only the id is added.
        self.shared: access.SharedHeaders | None = None
        self.status = 500
        self.started = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.started = True
            headers = list(message.get("headers", []))
            if self.shared is not None:
                await self.shared.add_to(headers)
            headers.append((b"x-request-id", self._request_id))
            message = {**message, "headers": headers}
        await self._send(message)


class RequestPipeline:
    """Run the steps of every request before ``app``, which is the rest of the application."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        idle_timeout: float = 30.0,
        discard_limits: DiscardLimits = DEFAULT_DISCARD_LIMITS,
    ) -> None:
        self.app = app
        self.body_guard = BodyGuard(max_body_bytes, idle_timeout)
        self.discard_limits = discard_limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # 1. Context ---------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = claim_request_id(scope)
        token = request_id_var.set(request_id)
        state = scope["state"]
        started = time.perf_counter()
        response = _Response(send, request_id)
        try:
            await self._admit(scope, receive, response, state)
        except ServiceError as error:
            # A middleware's own storage step (an idempotency claim, say) may
            # fail with a mapped error such as 503; it keeps its status.
            error_log.warning(
                "request failed outside its route",
                extra={"method": scope.get("method"), "path": scope["path"], "code": error.code},
            )
            if not response.started:
                response.shared = None
                await send_error(response.send, error, request_id)
        except Exception:
            error_log.exception(
                "unhandled error", extra={"method": scope.get("method"), "path": scope["path"]}
            )
            if not response.started:
                response.shared = None
                await send_error(
                    response.send,
                    ServiceError(
                        "an internal error occurred; quote the request id when reporting it"
                    ),
                    request_id,
                )
        finally:
            request_id_var.reset(token)
            record_request(
                scope["method"],
                route_template(scope),
                _status_sent(response, state),
                time.perf_counter() - started,
                request_id,
                state.get("organization_id"),
                reason=state.get(REJECTION_REASON),
            )

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Realtime fan-out writes frames through the web server's own send.
        scope[RAW_SEND_KEY] = send
        request_id = claim_request_id(scope)
        token = request_id_var.set(request_id)
        handshake = _Handshake(send, scope, request_id)
        receive = handshake.watch(receive)
        mode = mock.activated() if mock.requested(_header(scope, b"x-campfire-mock")) else None
        try:
            repeated = find_ambiguous_header(scope) or repeated_authorization(scope)
            if repeated is not None:
                # The socket authenticates with its first frame and reads no
                # header, but a handshake with two credentials is as ambiguous
                # as such a request, so it is rejected the same way.
                handshake.reason = repeated.message
                await _reject_handshake(scope, handshake.send, repeated, request_id)
                return
            invalid_utf8 = find_invalid_utf8_in_url(scope)
            if invalid_utf8 is not None:
                # A REST request with such a query gets the same 400.
                handshake.reason = invalid_utf8.message
                await _reject_handshake(scope, handshake.send, invalid_utf8, request_id)
                return
            with mode or nullcontext():
                await self.app(scope, receive, handshake.send)
        except Exception as error:
            # The send or receive of a client that disconnected raises, which
            # is the client's doing, not an error of the server.
            if not (handshake.client_gone and isinstance(error, _DISCONNECTS)):
                error_log.exception(
                    "unhandled error", extra={"method": None, "path": scope["path"]}
                )
        finally:
            # uvicorn 0.55 sends 500 for a handshake that the application
            # left unanswered, whether it returned or raised, unless the
            # client has disconnected.
            handshake.record(CLIENT_CLOSED_REQUEST if handshake.client_gone else 500)
            request_id_var.reset(token)

    # 2. Access ----------------------------------------------------------------------

    async def _admit(
        self, scope: Scope, receive: Receive, response: _Response, state: dict
    ) -> None:
        request_id = state["request_id"]
        ambiguous = find_ambiguous_header(scope)
        if ambiguous is not None:
            state[REJECTION_REASON] = ambiguous.message
            # A proxy in front may have read the request differently, so
            # nothing after it on this connection is served.
            await self._reject_before_body(scope, receive, response.send, ambiguous, close=True)
            return

        origin = _header(scope, b"origin")
        cors_origin = await access.allowed_origin(scope, origin)
        if access.is_preflight(scope, origin):
            assert origin is not None
            await access.send_preflight(response.send, origin, cors_origin, request_id)
            return

        mock_header = _header(scope, b"x-campfire-mock")
        invalid = access.invalid_mock_header(mock_header)
        if invalid is not None:
            await send_error(response.send, invalid, request_id)
            return

        mock_on = mock.requested(mock_header)
        limited = scope["path"] not in access.UNLIMITED_PATHS
        response.shared = access.SharedHeaders(scope, state, cors_origin, mock_on, limited)
        if limited and not access.takes_credential(scope):
            # The client address is the only identity of a request without a
            # credential, and of one whose route never checks the credential it
            # carries. A credential that a route checks and rejects is counted
            # against the address at that check (``admit``).
            decision = state["rate_limit"] = await access.limit_anonymous(scope)
            if not decision.allowed:
                try:
                    decision.raise_if_exceeded()
                except ServiceError as error:
                    await send_error(response.send, error, request_id)
                    return

        if mock_on:
            with mock.activated():
                await self._check_method(scope, receive, response.send)
        else:
            await self._check_method(scope, receive, response.send)

    # 3. Methods ---------------------------------------------------------------------

    async def _check_method(self, scope: Scope, receive: Receive, send: Send) -> None:
        table = RouteTable.of(scope["app"])
        path: str = scope["path"]
        method: str = scope["method"]
        request_id = scope["state"]["request_id"]
        if table.is_websocket_path(path):
            # A handshake that the web server did not upgrade, because it
            # failed a check, or a plain request. The parser may read nothing
            # after a request that asked for an upgrade.
            error = handshake_error(scope) or methods.upgrade_required(path)
            scope["state"][REJECTION_REASON] = error.message
            await send_error(send, error, request_id, close=requests_websocket(scope["headers"]))
            return

        if method == "OPTIONS":
            await methods.respond_to_options(scope, receive, send, self._guard_body)
            return

        not_allowed = methods.shadowed_method(table, path, method)
        if not_allowed is not None:
            await send_error(send, not_allowed, request_id)
            return

        if methods.needs_head_of_get(table, path, method):
            await methods.respond_to_head(scope, receive, send, self._guard_body)
            return

        resource = table.resource(path)
        error: ServiceError | None = None
        if resource is None:
            error = NotFound(f"no route matches {method} {shown_text(path)}")
        elif method not in resource.methods:
            error = method_not_allowed(method, path, resource.allowed())
        elif method in resource.authenticated:
            # 4. Credential.
            try:
                principal = await admit(scope)
                for route_access in resource.accesses.get(method, ()):
                    route_access.check(principal)
            except ServiceError as failed:
                error = failed
        if error is not None:
            await self._reject_before_body(scope, receive, send, error)
            return
        assert resource is not None
        await self._guard_body(scope, receive, send, resource.direct.get(method))

    async def _reject_before_body(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        error: ServiceError,
        *,
        close: bool = False,
    ) -> None:
        """Send ``error`` before reading the body, and close the connection if ``close`` is set.

        The connection always closes after a request that may have a body.
        """
        request_id = scope["state"]["request_id"]
        if may_have_body(scope):
            await send_error_before_body(send, receive, error, request_id, self.discard_limits)
        else:
            await send_error(send, error, request_id, close=close)

    # 5. Body guard ------------------------------------------------------------------

    async def _guard_body(
        self, scope: Scope, receive: Receive, send: Send, direct: DirectRoute | None = None
    ) -> None:
        request_id = scope["state"]["request_id"]
        invalid_utf8 = find_invalid_utf8_in_url(scope)
        if invalid_utf8 is not None:
            await send_error(send, invalid_utf8, request_id)
            return
        part = find_nul_in_url(scope)
        if part is not None:
            error = ValidationFailed(
                f"{part} contains a NUL (U+0000) character",
                field=part,
                value=None,
                expected="text without NUL (U+0000) characters",
            )
            await send_error(send, error, request_id)
            return
        if scope["method"] in _BODY_METHODS:
            try:
                body = await self.body_guard.read(scope, receive)
            except ServiceError as error:
                # The unread rest of a body may be large or never end, so the
                # connection closes instead of reading it before the next request.
                if "raw_body" in scope["state"]:
                    await send_error(send, error, request_id)
                elif isinstance(error, RequestTimeout):
                    # The client stopped sending; there is nothing to discard.
                    await send_error(send, error, request_id, close=True)
                else:
                    await send_error_before_body(
                        send, receive, error, request_id, self.discard_limits
                    )
                return
            except ConnectionError:
                scope["state"][_CLIENT_CLOSED] = True
                return
            receive = replay(body)

        # 6. The application.
        if direct is not None and not scope["query_string"] and not _has_idempotency_key(scope):
            await direct.serve(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class _Handshake:
    """The ``send`` of a WebSocket handshake, which writes its access line with the response.

    The line has status 101 when the application accepts the socket, the
    status of an HTTP response that rejects it, or 403 for a close before
    the accept, which the web server sends as 403. A client that
    disconnects before the response is sent gets 499, as on the HTTP path.
    It is written when the response is sent, not when the socket closes,
    and its duration is the time until then.
    """

    __slots__ = (
        "_send",
        "_scope",
        "_request_id",
        "_started",
        "reason",
        "recorded",
        "client_gone",
    )

    def __init__(self, send: Send, scope: Scope, request_id: str) -> None:
        self._send = send
        self._scope = scope
        self._request_id = request_id
        self._started = time.perf_counter()
        self.reason: str | None = None
        self.recorded = False
        # Set when the web server reports that the client disconnected.
        self.client_gone = False

    def watch(self, receive: Receive) -> Receive:
        """Return ``receive``, noting a disconnect that arrives before the response."""

        async def watched() -> Message:
            message = await receive()
            if message["type"] == "websocket.disconnect" and not self.recorded:
                self.client_gone = True
            return message

        return watched

    async def send(self, message: Message) -> None:
        if self.recorded:
            await self._send(message)
            return
        kind = message["type"]
        status = None
        if kind == "websocket.accept":
            status = 101
        elif kind == "websocket.http.response.start":
            status = message["status"]
        elif kind == "websocket.close":
            status = 403
        try:
            await self._send(message)
        except OSError:
            # uvicorn raises ClientDisconnected, an OSError, for a client
            # that disconnected before the response.
            self.client_gone = True
            self.record(CLIENT_CLOSED_REQUEST)
            raise
        if status is not None:
            self.record(status)

    def record(self, status: int) -> None:
        """Write the access line with ``status``, unless the handshake already has one."""
        if self.recorded:
            return
        self.recorded = True
        record_request(
            "GET",
            route_template(self._scope),
            status,
            time.perf_counter() - self._started,
            self._request_id,
            reason=self.reason,
        )


async def _reject_handshake(scope: Scope, send: Send, error: ServiceError, request_id: str) -> None:
    """Refuse a WebSocket handshake with ``error`` in the envelope, as an HTTP response.

    A server without the ASGI extension for such responses gets a close
    instead, which it sends as a bare 403.
    """
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    body = error_body(error, request_id)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    headers += [(name.lower().encode(), value.encode()) for name, value in error.headers.items()]
    await send(
        {"type": "websocket.http.response.start", "status": error.http_status, "headers": headers}
    )
    await send({"type": "websocket.http.response.body", "body": body})


def _has_idempotency_key(scope: Scope) -> bool:
    return any(key == b"idempotency-key" for key, _ in scope["headers"])


def _status_sent(response: _Response, state: dict) -> int:
    """Return the status that the client received, or the one logged for no response.

    The web server may have responded to the request itself, such as with a 400
    for a malformed chunked body, while the application was reading it.
    """
    server_status = state.get(SERVER_RESPONSE_STATUS)
    if server_status is not None:
        return server_status
    if response.started:
        return response.status
    if state.get(_CLIENT_CLOSED):
        return CLIENT_CLOSED_REQUEST
    # The web server sends its own 500 when the application sent nothing.
    return 500

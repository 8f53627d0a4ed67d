"""A shorter request path for the routes whose parameters are plain.

FastAPI's general handler resolves a dependency graph, opens exit stacks for
dependencies that yield and consults its telemetry hooks on every request.
Most operations here take only path and query values, the caller's principal, the
database, the settings, the request, a response to add headers to and one JSON
body. ``LeanRoute`` resolves exactly those with FastAPI's own field
validators and serialisers, so the errors and the response bytes are the
ones FastAPI would produce. A route with any other kind of parameter keeps
FastAPI's handler.

Routers that use it must be included without extra dependencies, which the
original route's ``dependant`` would not see.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi._compat import field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_body_to_args, request_params_to_args
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.routing import APIRoute
from pydantic_core import PydanticUndefined

from ..errors import ValidationFailed
from .deps import current_principal, get_db, get_settings
from .route_access import RouteAccess, check_route_access, route_accesses

# Dependencies that need nothing but the request, besides each ``RouteAccess``.
_REQUEST_ONLY = (current_principal, get_db, get_settings)

Handler = Callable[[Request], Awaitable[Response]]


def _is_plain(dependant: Dependant) -> bool:
    if (
        dependant.header_params
        or dependant.cookie_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or len(dependant.body_params) > 1
    ):
        return False
    return all(
        (sub.call in _REQUEST_ONLY or isinstance(sub.call, RouteAccess))
        and sub.name is not None
        and not sub.dependencies
        for sub in dependant.dependencies
    )


async def _json_body(request: Request) -> Any:
    """Return the parsed body, or ``PydanticUndefined`` when there is none.

    The body guard has already checked the size, the media type and the
    syntax, and keeps the parsed document in the scope state.
    """
    state = request.scope.get("state", {})
    if "json_body" in state:
        return state["json_body"]
    raw = state.get("raw_body")
    if raw is None:
        raw = await request.body()
    if not raw:
        return PydanticUndefined
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", error.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": error.msg},
                }
            ]
        ) from None


def _query_names(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _list_query_names(dependant: Dependant) -> set[str]:
    names = {
        field.alias
        for field in dependant.query_params
        if field_annotation_is_sequence(field.field_info.annotation)
    }
    for sub in dependant.dependencies:
        names |= _list_query_names(sub)
    return names


def _reject_unknown_query(handler: Handler, dependant: Dependant) -> Handler:
    """Wrap ``handler`` so an undeclared, repeated or conflicting query parameter is a 400.

    A misspelt filter such as ``stauts=closed`` would otherwise be ignored and
    the list returned unfiltered, and of ``status=open&status=closed`` on a
    one-value filter only the last would count. A list parameter, such as
    the handoffs' ``status``, may repeat. ``cursor`` and ``page`` both set
    where a list starts, so they may not come together.
    """
    known = frozenset(_query_names(dependant))
    repeatable = frozenset(_list_query_names(dependant))
    expected = ", ".join(sorted(known)) if known else "no query parameters"
    accesses = route_accesses(dependant)

    def check(query: Any) -> None:
        for name in query:
            if name not in known:
                raise ValidationFailed(
                    f"unknown query parameter {name!r}",
                    field=name,
                    value=query[name],
                    expected=f"one of: {expected}" if known else expected,
                )
        if len(query) < len(query.multi_items()):
            _reject_repeats(query.multi_items(), repeatable)
        if "cursor" in query and "page" in query:
            raise ValidationFailed(
                "cursor and page were both sent; send cursor to continue from a previous "
                "page, or page for an offset, not both",
                field="page",
                value=query["page"],
                expected="no page when cursor is sent",
            )

    async def checked(request: Request) -> Response:
        try:
            check(request.query_params)
        except ValidationFailed:
            # A caller that the route does not admit gets its 401 or 403, not this 400.
            await check_route_access(request, accesses)
            raise
        return await handler(request)

    return checked


def _reject_body_fields(handler: Handler, dependant: Dependant) -> Handler:
    """Wrap the ``handler`` of a route without a body model so that a body with fields is a 400.

    Such a route accepts no body or ``{}``. Any field would otherwise be
    ignored, so a request that means something else would still succeed.
    A caller that the route does not admit gets its 401 or 403 instead.
    """
    accesses = route_accesses(dependant)

    async def checked(request: Request) -> Response:
        try:
            document = await _json_body(request)
        except RequestValidationError:
            await check_route_access(request, accesses)
            raise
        if document is PydanticUndefined or document == {}:
            return await handler(request)

        await check_route_access(request, accesses)
        if isinstance(document, dict):
            errors = [
                {
                    "type": "extra_forbidden",
                    "loc": ("body", name),
                    "msg": "Extra inputs are not permitted",
                    "input": value,
                }
                for name, value in document.items()
            ]
        else:
            errors = [
                {
                    "type": "model_type",
                    "loc": ("body",),
                    "msg": "Input should be an empty object",
                    "input": document,
                }
            ]
        raise RequestValidationError(errors)

    return checked


def _reject_repeats(items: list[tuple[str, str]], repeatable: frozenset[str]) -> None:
    values: dict[str, list[str]] = {}
    for name, value in items:
        values.setdefault(name, []).append(value)
    for name, sent in values.items():
        if len(sent) > 1 and name not in repeatable:
            raise ValidationFailed(
                f"query parameter {name!r} was sent {len(sent)} times; it takes one value, "
                "so send it once",
                field=name,
                value=sent[:10],
                expected=f"one {name} parameter",
            )


def _plain_text_params(fields: list[Any]) -> list[tuple[str, str]] | None:
    """Return the names and aliases of ``fields`` when each is a required ``str`` without rules.

    Validating such a value returns it unchanged, so the handler takes it as
    the router matched it. None when any field has another type or a constraint.
    """
    plain = []
    for field in fields:
        info = field.field_info
        if info.annotation is not str or info.metadata or not info.is_required():
            return None
        plain.append((field.name, field.alias))
    return plain


_JSON_CONTENT_TYPE = (b"content-type", b"application/json")


def _bare_response(
    status_code: int | None, body: bytes, raw_headers: list[tuple[bytes, bytes]]
) -> Response:
    """Return a ``Response`` with exactly these status, body and headers.

    ``Response.__init__`` would derive the same ``content-length`` and
    ``content-type`` from the body and media type through more steps, which
    the message route runs on every request. A status of ``None`` marks the
    response that a handler takes as a parameter: one it did not set.
    """
    response = Response.__new__(Response)
    response.status_code = status_code  # type: ignore[assignment]
    response.background = None
    response.body = body
    response.raw_headers = raw_headers
    return response


class LeanRoute(APIRoute):
    # The handler without the query check, which the request pipeline may
    # call directly (``direct.py``). It is None where FastAPI's handler serves.
    lean_handler: Handler | None = None

    def get_route_handler(self) -> Handler:
        general = super().get_route_handler()
        takes_no_body = self.body_field is None
        if takes_no_body:
            general = _reject_body_fields(general, self.dependant)
        if (
            not _is_plain(self.dependant)
            or self._embed_body_fields
            or self.response_field is None
            or self.stream_item_field is not None
            or self.status_code == 204
        ):
            return _reject_unknown_query(general, self.dependant)
        lean = self._lean_handler()
        # The pipeline may call the lean handler directly, so it checks the body itself.
        self.lean_handler = _reject_body_fields(lean, self.dependant) if takes_no_body else lean
        return _reject_unknown_query(self.lean_handler, self.dependant)

    def _lean_handler(self) -> Handler:
        dependant = self.dependant
        call = dependant.call
        assert call is not None
        body_field = self.body_field
        response_field = self.response_field
        assert response_field is not None
        status_code = self.status_code or 200
        options = {
            "include": self.response_model_include,
            "exclude": self.response_model_exclude,
            "by_alias": self.response_model_by_alias,
            "exclude_unset": self.response_model_exclude_unset,
            "exclude_defaults": self.response_model_exclude_defaults,
            "exclude_none": self.response_model_exclude_none,
        }
        request_name = dependant.request_param_name
        response_name = dependant.response_param_name
        needs = [(sub.name, sub.call) for sub in dependant.dependencies]
        plain_path = _plain_text_params(dependant.path_params)

        async def handle(request: Request) -> Response:
            values: dict[str, Any] = {}
            for name, dependency in needs:
                values[name] = await dependency(request)  # type: ignore[misc]

            errors: list[Any] = []
            if plain_path is not None:
                path_params = request.path_params
                for name, alias in plain_path:
                    values[name] = path_params[alias]
            else:
                path_values, errors = request_params_to_args(
                    dependant.path_params, request.path_params
                )
                values.update(path_values)
            if dependant.query_params:
                query_values, query_errors = request_params_to_args(
                    dependant.query_params, request.query_params
                )
                values.update(query_values)
                errors += query_errors
            if body_field is not None:
                document = await _json_body(request)
                if document is PydanticUndefined:
                    body_values, body_errors = await request_body_to_args(
                        [body_field], document, False
                    )
                    values.update(body_values)
                else:
                    # FastAPI's own validation of a single body that is not embedded.
                    values[body_field.name], body_errors = body_field.validate(
                        document, values, loc=("body",)
                    )
                errors += body_errors
            if errors:
                raise RequestValidationError(errors)

            if request_name:
                values[request_name] = request
            extra: Response | None = None
            if response_name:
                extra = values[response_name] = _bare_response(None, b"", [])

            content = await call(**values)
            if isinstance(content, Response):
                return content

            value, problems = response_field.validate(content, {}, loc=("response",))
            if problems:
                raise ResponseValidationError(problems, body=content)
            body = response_field.serialize_json(value, **options)
            headers = [(b"content-length", str(len(body)).encode()), _JSON_CONTENT_TYPE]
            if extra is None:
                return _bare_response(status_code, body, headers)
            headers += extra.raw_headers
            return _bare_response(extra.status_code or status_code, body, headers)

        return handle

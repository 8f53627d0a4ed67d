from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._core import Operation, Request, to_camel
from .._pagination import Paginator

if TYPE_CHECKING:
    from .._client import BaseClient

T = TypeVar("T")


def camel_keys(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Rename the top-level keys of a nested object (``context``, ``settings``) to camelCase."""
    if value is None:
        return None
    return {to_camel(key): item for key, item in value.items()}


def ignore(_: Any) -> None:
    return None


class Resource:
    """Base of every resource.

    On a ``CampfireClient`` each method returns its result; on an
    ``AsyncCampfireClient`` the same method returns an awaitable of it.
    """

    def __init__(self, client: BaseClient) -> None:
        self._client = client

    def _call(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        expects_json: bool = True,
    ) -> Any:
        request = Request(method, path, dict(params or {}), json)
        return self._client._execute(Operation(request, parse, expects_json))

    def _list(
        self, path: str, parse_item: Callable[[Any], T], params: Mapping[str, Any] | None = None
    ) -> Paginator[T]:
        return Paginator(self._client, Request("GET", path, dict(params or {})), parse_item)

"""Auto-paginating lists that follow ``pagination.nextCursor``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._core import Operation, Request
from ._models import Page

if TYPE_CHECKING:
    from ._client import BaseClient

T = TypeVar("T")


class Paginator(Generic[T]):
    """Every item of a list, fetched page by page as iteration reaches it.

    Iterate with ``for`` on a ``CampfireClient`` and with ``async for`` on an
    ``AsyncCampfireClient``. ``first_page()`` returns just the first ``Page``
    (awaitable on the async client). Ordering is the server's, and the
    cursor keeps it stable while new items arrive.
    """

    def __init__(
        self, client: BaseClient, request: Request, parse_item: Callable[[Any], T]
    ) -> None:
        self._client = client
        self._request = request
        self._parse_item = parse_item

    def _operation(self, cursor: str | None) -> Operation[Page[T]]:
        request = self._request
        if cursor is not None:
            # The cursor replaces page numbering; other filters stay.
            params = {k: v for k, v in request.params.items() if k != "page"}
            request = replace(request, params={**params, "cursor": cursor})
        parse_item = self._parse_item

        def parse(data: Any) -> Page[T]:
            return Page[Any](
                data=[parse_item(item) for item in data.get("data", [])],
                pagination=data.get("pagination") or {},
            )

        return Operation(request, parse)

    @staticmethod
    def _next_cursor(page: Page[T]) -> str | None:
        if not page.pagination.has_more:
            return None
        return page.pagination.next_cursor

    def first_page(self) -> Any:
        return self._client._execute(self._operation(None))

    def __iter__(self) -> Iterator[T]:
        cursor: str | None = None
        while True:
            page = self._client._execute(self._operation(cursor))
            if not isinstance(page, Page):
                page.close()  # the coroutine of an async client, never started
                raise TypeError("use `async for` to iterate a list of an AsyncCampfireClient")
            yield from page.data
            cursor = self._next_cursor(page)
            if cursor is None:
                return

    async def __aiter__(self) -> AsyncIterator[T]:
        cursor: str | None = None
        while True:
            pending = self._client._execute(self._operation(cursor))
            if isinstance(pending, Page):
                raise TypeError("use `for` to iterate a list of a CampfireClient")
            page = await pending
            for item in page.data:
                yield item
            cursor = self._next_cursor(page)
            if cursor is None:
                return

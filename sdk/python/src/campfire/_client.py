"""``CampfireClient`` and ``AsyncCampfireClient``: the same resources over two transports."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ._core import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, ClientCore, Operation
from ._resources.access import Auth, Events, Keys, Widget
from ._resources.analytics import Analytics
from ._resources.assistant import AI, Knowledge
from ._resources.conversations import Conversations, Messages
from ._resources.mailboxes import Mailboxes
from ._resources.routing import Agents, Handoffs
from ._resources.webhooks import Webhooks
from ._transport import AsyncTransport, SyncTransport

if TYPE_CHECKING:
    from ._realtime import RealtimeClient


class BaseClient:
    """Configuration and resources shared by both clients."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        mock: bool = False,
    ) -> None:
        headers = dict(default_headers or {})
        if mock:
            headers["X-Campfire-Mock"] = "true"
        self._core = ClientCore(
            api_key=api_key or os.environ.get("CAMPFIRE_API_KEY", ""),
            base_url=base_url or os.environ.get("CAMPFIRE_BASE_URL") or DEFAULT_BASE_URL,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=headers,
        )
        self.conversations = Conversations(self)
        self.messages = Messages(self)
        self.mailboxes = Mailboxes(self)
        self.ai = AI(self)
        self.handoffs = Handoffs(self)
        self.agents = Agents(self)
        self.knowledge = Knowledge(self)
        self.analytics = Analytics(self)
        self.webhooks = Webhooks(self)
        self.auth = Auth(self)
        self.keys = Keys(self)
        self.widget = Widget(self)
        self.events = Events(self)

    @property
    def base_url(self) -> str:
        return self._core.base_url

    def _execute(self, operation: Operation[Any]) -> Any:
        raise NotImplementedError

    def realtime(self, **options: Any) -> RealtimeClient:
        """Return a realtime client with this client's key and base URL (not yet connected).

        Needs the ``websockets`` package (``pip install 'campfire-sdk[realtime]'``).
        """
        from ._realtime import RealtimeClient

        return RealtimeClient(api_key=self._core.api_key, base_url=self._core.base_url, **options)


class CampfireClient(BaseClient):
    """Synchronous client for the Campfire API.

    **Parameters**

    * **api_key**: a secret key (``sk_...``) or a JWT; defaults to ``CAMPFIRE_API_KEY``.
    * **base_url**: the API root, ``http://localhost:3000/api/v2`` unless
      ``CAMPFIRE_BASE_URL`` is set.
    * **timeout**: seconds per attempt.
    * **max_retries**: retries after the first attempt, on 408, 429, 5xx and connection
      errors, with exponential backoff and jitter; a 429 or 503 waits for ``Retry-After``.
      Every POST, PATCH, PUT and DELETE carries one ``Idempotency-Key`` for all its
      attempts, so a retry never creates anything twice or applies a change again.
    * **mock**: send ``X-Campfire-Mock: true``, so writes are validated but not stored.
    * **http_client**: an ``httpx.Client`` to use instead of the SDK's own.

    ```python
    client = CampfireClient(api_key="sk_test_...")
    conversation = client.conversations.create(customer_id="customer_123", subject="Hi")
    ```
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        mock: bool = False,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            mock=mock,
        )
        self._transport = SyncTransport(self._core, http_client)

    def _execute(self, operation: Operation[Any]) -> Any:
        return self._transport.execute(operation)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> CampfireClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncCampfireClient(BaseClient):
    """Asynchronous client; the same parameters and resources as ``CampfireClient``.

    Every resource method returns an awaitable, and lists are iterated with ``async for``.

    ```python
    async with AsyncCampfireClient(api_key="sk_test_...") as client:
        conversation = await client.conversations.create(customer_id="customer_123")
        async for message in client.messages.list(conversation.id):
            print(message.content)
    ```
    """

    # NOTE: the resource classes are shared with the sync client, so a type
    # checker sees the sync return types here; at run time each method
    # returns an awaitable of that type.

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        mock: bool = False,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            mock=mock,
        )
        self._transport = AsyncTransport(self._core, http_client)

    def _execute(self, operation: Operation[Any]) -> Any:
        return self._transport.execute(operation)

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncCampfireClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

"""Python client for the Campfire customer support API.

```python
from campfire import CampfireClient

client = CampfireClient(api_key="sk_test_...")
conversation = client.conversations.create(customer_id="customer_123", subject="Hi")
```
"""

from . import webhooks
from ._client import AsyncCampfireClient, CampfireClient
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    AuthorizationError,
    CampfireError,
    ConflictError,
    InternalServerError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    RealtimeError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
    ValidationError,
    WebhookVerificationError,
)
from ._models import (
    Agent,
    AIResponse,
    ApiKey,
    Article,
    Conversation,
    Handoff,
    ImportResult,
    Mailbox,
    MailboxSettings,
    Message,
    Metric,
    Metrics,
    Page,
    Pagination,
    QueuedHandoff,
    RealtimeEvent,
    Satisfaction,
    SearchHit,
    Source,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from ._pagination import Paginator
from ._realtime import RealtimeClient, RealtimeSession
from ._version import __version__

__all__ = [
    "AIResponse",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "Agent",
    "ApiKey",
    "Article",
    "AsyncCampfireClient",
    "AuthenticationError",
    "AuthorizationError",
    "CampfireClient",
    "CampfireError",
    "ConflictError",
    "Conversation",
    "Handoff",
    "ImportResult",
    "InternalServerError",
    "Mailbox",
    "MailboxSettings",
    "Message",
    "MethodNotAllowedError",
    "Metric",
    "Metrics",
    "NotFoundError",
    "Page",
    "Pagination",
    "Paginator",
    "PayloadTooLargeError",
    "QueuedHandoff",
    "RateLimitError",
    "RealtimeClient",
    "RealtimeError",
    "RealtimeEvent",
    "RealtimeSession",
    "Satisfaction",
    "SearchHit",
    "ServiceUnavailableError",
    "Source",
    "UnsupportedMediaTypeError",
    "ValidationError",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookVerificationError",
    "__version__",
    "webhooks",
]

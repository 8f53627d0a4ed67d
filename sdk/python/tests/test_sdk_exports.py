"""The public surface of ``campfire`` is pinned: a change here is a versioned API change."""

import campfire

EXPECTED = {
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
    "Paginator",
    "Pagination",
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
}


def test_all_is_pinned():
    assert set(campfire.__all__) == EXPECTED
    assert len(campfire.__all__) == len(EXPECTED)


def test_every_export_exists():
    missing = [name for name in campfire.__all__ if not hasattr(campfire, name)]
    assert missing == []


def test_no_public_module_leaks():
    public = {name for name in vars(campfire) if not name.startswith("_")}
    assert public <= EXPECTED


def test_webhooks_module_exports():
    assert set(campfire.webhooks.__all__) == {
        "DEFAULT_TOLERANCE",
        "WebhookVerificationError",
        "sign",
        "verify",
    }

"""Assemble the ASGI application: settings, storage, middleware, routers, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from . import __version__, gc_policy, supervision
from .analytics import live as analytics_live
from .api.errors import install_error_handlers
from .api.idempotency import IdempotencyMiddleware
from .api.middleware import DiscardLimits
from .api.openapi import install_openapi
from .api.pipeline import RequestPipeline
from .api.routes import (
    agents,
    ai,
    analytics,
    api_docs,
    auth,
    conversations,
    events,
    handoffs,
    health,
    help_centre,
    inbox_assets,
    keys,
    knowledge,
    mailboxes,
    messages,
    satisfaction,
    webhooks,
    widget,
    widget_assets,
)
from .assistant.setup import assistant_service
from .auth.keys import KeyCache
from .auth.origins import OriginRegistry
from .auth.ratelimit import RateLimits
from .auth.tokens import external_key_from_settings
from .config import Settings, get_settings
from .db import liveness
from .db.database import Database, open_database
from .development import seed_development_data
from .events.emit import register_tx_hook
from .logs import configure_logging
from .monitoring import service as monitoring_service
from .realtime import gateway as realtime_gateway
from .realtime import runtime as realtime_runtime
from .routing import service as routing
from .webhooks import delivery as webhook_delivery

log = logging.getLogger(__name__)

API_PREFIX = "/api/v2"

# Background services started with the application, in order, and stopped in
# reverse: each is a function of the app returning an async context manager.
ServiceFactory = Callable[[FastAPI], AbstractAsyncContextManager[None]]
SERVICES: list[ServiceFactory] = [assistant_service, realtime_runtime.lifespan]

# Webhook deliveries are queued from committed events and sent by the
# in-process worker (off with CAMPFIRE_WEBHOOK_WORKER=false).
# Analytics facts change in the transaction of each message, resolution,
# handoff request and rating.
register_tx_hook(analytics_live.on_event)
SERVICES.append(webhook_delivery.lifespan_service)
SERVICES.append(monitoring_service.lifespan)

DESCRIPTION = """\
Campfire's REST API: conversations, messages, AI answers, handoff to people,
analytics and webhooks. Authenticate with `Authorization: Bearer <key>`.
Every error has the shape `{"error": {"code", "message", "details", "requestId"}}`.
"""


def create_served_app() -> FastAPI:
    """Build the application for ``campfire serve`` with logging configured.

    uvicorn calls this factory in each worker process of ``--workers N``, and
    a worker starts without the logging set-up of the command that spawned it.
    """
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    supervision.exit_with_supervisor()
    return create_app(settings)


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the application; ``db`` is opened from the settings when not given."""
    settings = settings or get_settings()
    settings.check_serving_secrets()
    external_key_from_settings(settings)  # a bad public key fails here, at start-up

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owns_db = db is None
        app.state.db = db or open_database(
            settings.database_url,
            pool_size=settings.database_pool_size,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        )
        app.state.rate_limits = RateLimits(settings, app.state.db)
        app.state.origins = OriginRegistry(app.state.db)
        if settings.is_development:
            await seed_development_data(app.state.db)
        log.info(
            "server started",
            extra={"env": settings.env, "database": app.state.db.dialect, "version": __version__},
        )
        try:
            async with AsyncExitStack() as stack:
                # Before the first request, because idempotency claims store its id.
                app.state.liveness = await stack.enter_async_context(liveness.held(app.state.db))
                for factory in SERVICES:
                    await stack.enter_async_context(factory(app))
                # Last, so that everything start-up made is frozen.
                stack.enter_context(gc_policy.applied(settings.gc_freeze, settings.gc_thresholds))
                yield
        finally:
            await app.state.rate_limits.close()
            if owns_db:
                await app.state.db.close()
            log.info("server stopped")

    app = FastAPI(
        title="Campfire API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        # Served by api_docs.router from this server's own copy of Swagger UI.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # A trailing slash is another path and gets a 404, not a redirect,
        # because Starlette builds the redirect from the client's Host header.
        redirect_slashes=False,
        # FastAPI's OpenTelemetry hooks would ask on every request whether a
        # provider is configured; the server reports through /metrics and its logs.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.key_cache = KeyCache()

    install_error_handlers(app)
    routing.configure(routing.policy_from_settings(settings))
    for router in (
        conversations.router,
        messages.router,
        mailboxes.router,
        knowledge.router,
        ai.router,
        agents.router,
        handoffs.router,
        handoffs.queue_router,
        events.router,
        realtime_gateway.router,
        webhooks.router,
        keys.router,
        auth.router,
        widget.router,
        satisfaction.router,
        analytics.router,
        api_docs.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health.router)
    app.include_router(widget_assets.router)
    app.include_router(help_centre.router)
    app.include_router(inbox_assets.router)
    install_openapi(app)

    # One layer for every step before the routes (api/pipeline.py), then
    # idempotent replays, which need the checked body.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(
        RequestPipeline,
        max_body_bytes=settings.max_body_bytes,
        idle_timeout=settings.body_idle_timeout_seconds,
        discard_limits=DiscardLimits(
            settings.early_error_discard_bytes, settings.early_error_discard_seconds
        ),
    )
    return app

"""Probes and metrics: /health, /healthz, /readyz and /metrics, outside the API prefix."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ...db import migrate
from ...errors import AuthenticationFailed, ServiceUnavailable
from ...monitoring import service as monitoring
from ..errors import error_response

log = logging.getLogger(__name__)

# Not part of the public API document: operators, not integrators, call these.
router = APIRouter(tags=["monitoring"], include_in_schema=False)

# A schema found current stays current until the next deploy, so the
# (comparatively slow) Alembic check runs at most once per this many seconds.
MIGRATION_CHECK_SECONDS = 30.0
CHECK_TIMEOUT_SECONDS = 3.0


@router.get("/healthz", operation_id="healthz", summary="Liveness: the process answers")
# The same probe at /health, so a monitor set up for that path gets 200, not 404.
@router.get("/health", operation_id="health", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


# The result of each failed check. The exception of the driver behind it is
# logged, not shown, because its text names the driver's internals.
FAILED_CHECKS = {
    "database": "failed: the database did not answer a query; check that it is running and "
    "reachable at CAMPFIRE_DATABASE_URL",
    "migrations": "failed: the schema version could not be read from the database",
    "redis": "failed: Redis did not answer PING; check that it is running and reachable at "
    "CAMPFIRE_REDIS_URL",
}


class NotReady(Exception):
    """A failed readiness check whose message is worded for the operator."""


async def _check(name: str, probe: Any) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return name, f"timed out after {CHECK_TIMEOUT_SECONDS:g} s"
    except NotReady as error:
        return name, f"failed: {error}"
    except Exception as error:  # any failure of a dependency makes the process unready
        log.warning(
            "readiness check failed",
            extra={"check": name, "error": f"{type(error).__name__}: {str(error)[:200]}"},
        )
        return name, FAILED_CHECKS[name]
    return name, "ok"


async def _migrations_current(request: Request) -> None:
    state = request.app.state
    checked_at = getattr(state, "migrations_checked_at", None)
    if checked_at is not None and time.monotonic() - checked_at < MIGRATION_CHECK_SECONDS:
        return
    current = await asyncio.to_thread(migrate.is_current, state.db.url)
    if not current:
        raise NotReady("the database schema is behind; run `campfire migrate`")
    state.migrations_checked_at = time.monotonic()


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="Readiness: database reachable, migrations current, Redis reachable if configured",
    responses={503: {"description": "A dependency failed: SERVICE_UNAVAILABLE"}},
)
async def readyz(request: Request) -> Response:
    state = request.app.state
    probes = [
        _check("database", state.db.ping()),
        _check("migrations", _migrations_current(request)),
    ]
    if state.settings.redis_url:
        probes.append(_check("redis", state.rate_limits.ping_redis()))
    checks = dict(await asyncio.gather(*probes))
    if all(result == "ok" for result in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    log.warning("not ready", extra={"checks": checks})
    return error_response(
        ServiceUnavailable(
            "the server is not ready: "
            + ", ".join(f"{name} {result}" for name, result in checks.items() if result != "ok"),
            details={"checks": checks},
            headers={"Retry-After": "5"},
        )
    )


@router.get("/metrics", operation_id="metrics", summary="Prometheus metrics of this process")
async def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token:
        supplied = request.headers.get("authorization", "")
        if not hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode()):
            return error_response(
                AuthenticationFailed(
                    "GET /metrics requires 'Authorization: Bearer <CAMPFIRE_METRICS_TOKEN>'"
                )
            )
    await monitoring.collect(request.app)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

"""Settings read from ``CAMPFIRE_*`` environment variables, once, at start-up."""

from __future__ import annotations

import ipaddress
import json
import re
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["development", "test", "production"]

DEFAULT_GC_THRESHOLDS = (10_000, 10, 10)

# The upper bounds of the early-error discard settings.
MAX_DISCARD_BYTES = 1024 * 1024 * 1024
MAX_DISCARD_SECONDS = 60

REDIS_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")

# The JWT secret of development. It is public, so serving outside development
# rejects it, but it has MIN_SECRET_BYTES or more, so PyJWT does not warn.
DEVELOPMENT_JWT_SECRET = "development-secret-of-32-bytes-or-more"
PLACEHOLDER_SECRETS = {
    "",
    "change-me",
    "changeme",
    "secret",
    "development-secret",
    DEVELOPMENT_JWT_SECRET,
}
# The shortest secret accepted outside development, in bytes of UTF-8. PyJWT
# 2.15 warns below this length for HS256, after RFC 7518 section 3.2, because
# a key shorter than the 32-byte hash output can be guessed offline from one token.
MIN_SECRET_BYTES = 32
SECRET_HINT = "for example the output of `openssl rand -hex 32`"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    """Every setting of a Campfire process; see the configuration table in the README."""

    model_config = SettingsConfigDict(env_prefix="CAMPFIRE_", extra="ignore")

    env: Environment = "production"
    database_url: str = "sqlite:///campfire.db"
    redis_url: str | None = None
    # First part of every Redis key and pub/sub channel name of this deployment.
    redis_prefix: str = Field(default="campfire", min_length=1, max_length=64)
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    # Seconds each worker process of several gets to start serving before it is replaced.
    worker_start_timeout_seconds: float = Field(default=120, ge=1, le=3600)
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    # Secret used to sign the JWTs this server issues (HS256).
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_issuer: str = "campfire"
    jwt_audience: str = "campfire"
    # Public key (PEM text, or a path to a PEM file) of the integrator's own
    # identity provider. Tokens signed with it use RS256 (RSA key) or ES256
    # (P-256 key) and must carry the external issuer and audience.
    jwt_public_key: str | None = None
    jwt_external_issuer: str | None = None
    jwt_external_audience: str | None = None
    # Lifetimes of the tokens this server issues, in seconds.
    widget_session_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    token_max_ttl_seconds: int = Field(default=86400, ge=60, le=30 * 86400)
    inbox_session_ttl_seconds: int = Field(default=8 * 3600, ge=60, le=86400)

    # Storage tuning.
    database_pool_size: int = Field(default=16, ge=1, le=512)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)

    # Garbage collector (gc_policy.py): whether to freeze the objects of
    # start-up, and gc.set_threshold's three values. An empty list keeps the
    # interpreter's.
    gc_freeze: bool = True
    gc_thresholds: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_GC_THRESHOLDS)
    )

    # Request limits.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # The request line and headers: their largest size in bytes, and the time
    # from a request's first byte (or the connection's opening) to their end.
    max_header_bytes: int = Field(default=32 * 1024, ge=1024, le=16 * 1024 * 1024)
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    # The maximum pause, in seconds, between the parts of a request body.
    body_idle_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    # An error response sent before the body was read (401, 404, 413 and the
    # like) closes the connection after reading and discarding at most this
    # many bytes of the body, for at most this many seconds. A client still
    # sending its body when the connection closes may get a reset instead.
    early_error_discard_bytes: int = 4 * 1024 * 1024
    early_error_discard_seconds: float = 1.0

    # Rate limit defaults, configurable per organization.
    rate_limit_requests_per_minute: int = Field(default=1000, ge=1)
    rate_limit_messages_per_minute: int = Field(default=60, ge=1)
    rate_limit_websocket_connections: int = Field(default=100, ge=1)
    rate_limit_widget_sessions_per_minute: int = Field(default=30, ge=1)
    # Inbox sign-in attempts per client IP address, successful or not.
    rate_limit_login_attempts_per_minute: int = Field(default=10, ge=1)
    # Help-centre page views (/kb/{articleId}) per client IP address.
    rate_limit_help_centre_pages_per_minute: int = Field(default=120, ge=1)
    # Peers (IP addresses or CIDR networks) whose X-Forwarded-For header is
    # believed; comma-separated or a JSON list. Empty: the TCP peer is the client.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Bearer token that GET /metrics requires when set.
    metrics_token: str | None = None

    # Handoff routing (see docs/handoff.md).
    handoff_requeue_on_offline: bool = True
    handoff_default_handle_seconds: int = Field(default=300, ge=1)
    handoff_history_hours: int = Field(default=24, ge=1)
    # Realtime WebSocket API (docs/realtime.md).
    realtime_auth_timeout_seconds: float = Field(default=10.0, gt=0)
    realtime_heartbeat_seconds: float = Field(default=25.0, gt=0)
    realtime_idle_timeout_seconds: float = Field(default=120.0, ge=0)
    realtime_typing_ttl_seconds: float = Field(default=10.0, gt=0)
    # Lifetime of an agent socket's lease in Redis, or in the database on
    # PostgreSQL without Redis. Each process renews its leases every third
    # of it, so a dead process's sockets stop counting.
    realtime_presence_lease_seconds: float = Field(default=90.0, ge=1.0, le=3600.0)
    realtime_send_queue_frames: int = Field(default=256, ge=1)
    realtime_max_frame_bytes: int = Field(default=64 * 1024, ge=1024)
    realtime_per_message_deflate: bool = False
    realtime_replay_limit: int = Field(default=1000, ge=1, le=10_000)
    # The event log keeps an event while it is younger than the retention
    # window or among the newest ``event_retention_min_events`` of its channel.
    event_retention_hours: float = Field(default=24.0, gt=0)
    event_retention_min_events: int = Field(default=1000, ge=1)
    # Webhook delivery. Durations are in seconds.
    webhook_worker: bool = Field(
        default=True, description="Run the delivery worker inside each server process"
    )
    webhook_concurrency: int = Field(default=16, ge=1, le=512)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_retry_base_seconds: float = Field(default=10.0, gt=0)
    webhook_retry_max_delay_seconds: float = Field(default=7200.0, gt=0)
    webhook_retry_window_seconds: float = Field(default=86400.0, gt=0)
    webhook_disable_after_seconds: float = Field(default=86400.0, gt=0)
    webhook_rotation_grace_seconds: float = Field(default=86400.0, ge=0)
    webhook_lease_seconds: float = Field(default=60.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    # Hosts, IP addresses or CIDR networks that the SSRF guard lets through in
    # production, e.g. ["hooks.internal.example", "10.1.2.0/24"].
    webhook_allowed_hosts: list[str] = Field(default_factory=list)
    # False resolves only address literals and localhost, and treats every
    # other webhook host name as unresolvable: the test suites set it so that
    # no DNS query leaves the machine.
    webhook_dns_lookups: bool = True

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        # Accept the SQLAlchemy spellings of both engines; the driver is ours to pick.
        for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql://" + value[len(prefix) :]
        for prefix in ("sqlite+aiosqlite://", "sqlite+pysqlite://"):
            if value.startswith(prefix):
                value = "sqlite://" + value[len(prefix) :]
        if not value.startswith(("sqlite:///", "postgresql://")):
            raise ValueError(
                "must start with sqlite:/// (a file, e.g. sqlite:///campfire.db) or "
                "postgresql:// (a server, e.g. postgresql://user@host:5432/dbname)"
            )
        return value

    @field_validator("redis_prefix")
    @classmethod
    def _check_redis_prefix(cls, value: str) -> str:
        if not REDIS_PREFIX_PATTERN.fullmatch(value):
            raise ValueError(
                "must be 1 to 64 letters, digits, '_', '-' or '.', such as campfire-staging"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_trusted_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"must contain only IP addresses or CIDR networks, such as "
                    f"10.0.0.5,10.1.0.0/16, but {entry!r} is neither"
                ) from None
        return value

    @field_validator("early_error_discard_bytes")
    @classmethod
    def _check_discard_bytes(cls, value: int) -> int:
        if not 0 <= value <= MAX_DISCARD_BYTES:
            raise ValueError(
                f"must be a byte count from 0 to {MAX_DISCARD_BYTES} (1 GiB), such as the "
                "default 4194304; 0 closes the connection without reading the body"
            )
        return value

    @field_validator("early_error_discard_seconds")
    @classmethod
    def _check_discard_seconds(cls, value: float) -> float:
        if not 0 <= value <= MAX_DISCARD_SECONDS:
            raise ValueError(
                f"must be a number of seconds from 0 to {MAX_DISCARD_SECONDS}, such as the "
                "default 1; 0 closes the connection without reading the body"
            )
        return value

    @field_validator("gc_thresholds", mode="before")
    @classmethod
    def _split_gc_thresholds(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return [int(part) for part in value.split(",") if part.strip()]
            except ValueError:
                raise ValueError(
                    "must be three comma-separated whole numbers such as 10000,10,10, "
                    "or empty to keep the interpreter's"
                ) from None
        return value

    @field_validator("gc_thresholds")
    @classmethod
    def _check_gc_thresholds(cls, value: list[int]) -> list[int]:
        if value and (len(value) != 3 or min(value) < 0):
            raise ValueError(
                "must be three comma-separated counts of 0 or more, such as 10000,10,10, "
                "or empty to keep the interpreter's"
            )
        return value

    def check_serving_secrets(self) -> None:
        """Raise ``ValueError`` when a server outside development would use a guessable secret.

        The JWT secret signs every token this server issues, so anyone who
        guesses it can issue an admin token. The metrics token guards
        ``GET /metrics``. Development keeps its built-in JWT secret.
        """
        if self.is_development:
            return
        if self.jwt_secret in PLACEHOLDER_SECRETS:
            raise ValueError(
                f"CAMPFIRE_JWT_SECRET is invalid: it is unset or a placeholder; set it to a "
                f"random value of at least {MIN_SECRET_BYTES} bytes, {SECRET_HINT}, or run "
                "with CAMPFIRE_ENV=development"
            )
        check_secret_length("CAMPFIRE_JWT_SECRET", self.jwt_secret)
        if self.metrics_token:
            check_secret_length("CAMPFIRE_METRICS_TOKEN", self.metrics_token)

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith("postgresql://")


def check_secret_length(variable: str, secret: str) -> None:
    """Raise ``ValueError`` naming ``variable`` when ``secret`` is shorter than MIN_SECRET_BYTES.

    The message gives the length, never the secret.
    """
    size = len(secret.encode("utf-8"))
    if size < MIN_SECRET_BYTES:
        unit = "byte" if size == 1 else "bytes"
        raise ValueError(
            f"{variable} is invalid: it has {size} {unit} and must have at least "
            f"{MIN_SECRET_BYTES} outside development; set it to a random value, {SECRET_HINT}"
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

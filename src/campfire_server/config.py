"""Settings read from ``CAMPFIRE_*`` environment variables, once, at start-up."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "development-secret"}


class Settings(BaseSettings):
    """Every setting of a Campfire process; see the configuration table in the README."""

    model_config = SettingsConfigDict(env_prefix="CAMPFIRE_", extra="ignore")

    env: Environment = "production"
    database_url: str = "sqlite:///campfire.db"
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    # Secret used to sign the JWTs this server issues (HS256).
    jwt_secret: str = "development-secret"
    jwt_issuer: str = "campfire"
    jwt_audience: str = "campfire"

    # Storage tuning.
    database_pool_size: int = Field(default=16, ge=1, le=512)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)

    # Request limits.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Rate limit defaults, configurable per organization.
    rate_limit_requests_per_minute: int = Field(default=1000, ge=1)
    rate_limit_messages_per_minute: int = Field(default=60, ge=1)
    rate_limit_websocket_connections: int = Field(default=100, ge=1)
    trusted_proxies: list[str] = Field(default_factory=list)

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

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        # Accept the SQLAlchemy spellings of both engines; the driver is ours to pick.
        for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql://" + value[len(prefix) :]
        for prefix in ("sqlite+aiosqlite://", "sqlite+pysqlite://"):
            if value.startswith(prefix):
                return "sqlite://" + value[len(prefix) :]
        return value

    def check_serving_secrets(self) -> None:
        """Raise ``ValueError`` when a production server would sign tokens with a placeholder."""
        if self.env == "production" and self.jwt_secret in PLACEHOLDER_SECRETS:
            raise ValueError(
                "CAMPFIRE_JWT_SECRET is unset or a placeholder; set it to a long random "
                "value (for example `openssl rand -hex 32`) or run with CAMPFIRE_ENV=development"
            )

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith("postgresql://")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

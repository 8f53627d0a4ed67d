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

    # Handoff routing (see docs/handoff.md).
    handoff_requeue_on_offline: bool = True
    handoff_default_handle_seconds: int = Field(default=300, ge=1)
    handoff_history_hours: int = Field(default=24, ge=1)

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

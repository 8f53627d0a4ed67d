"""Settings of the answer engine, read from ``CAMPFIRE_AI_*`` environment variables."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..knowledge.semantic import SEMANTIC_MISSING, semantic_available

# Retrievers that need the semantic extra when they are set by name.
SEMANTIC_RETRIEVERS = ("semantic", "fused")


class AssistantSettings(BaseSettings):
    """How answers are retrieved and which providers write them."""

    model_config = SettingsConfigDict(env_prefix="CAMPFIRE_AI_", extra="ignore")

    # "auto" uses fused lexical and semantic retrieval when the semantic extra is
    # installed. The default stays lexical because loading the model adds seconds
    # to start-up and embedding every article adds minutes to the first answer.
    retriever: Literal["auto", "lexical", "semantic", "fused"] = "lexical"
    # Providers tried in order; the extractive provider is always the last resort.
    provider: Literal["extractive", "openai"] = "extractive"
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = None
    timeout_s: float = Field(default=20.0, gt=0, le=300)
    max_tokens: int = Field(default=400, ge=16, le=8192)

    def check(self) -> None:
        """Raise ``ValueError`` with a one-line message when the settings cannot work together.

        Checks what the field types cannot: the OpenAI provider's endpoint
        and model, and the semantic extra that a named semantic retriever needs.
        """
        if self.provider == "openai":
            missing = [
                name
                for name, value in (
                    ("CAMPFIRE_AI_BASE_URL", self.base_url),
                    ("CAMPFIRE_AI_MODEL", self.model),
                )
                if not value
            ]
            if missing:
                verb = "is" if len(missing) == 1 else "are"
                raise ValueError(
                    f"CAMPFIRE_AI_PROVIDER openai is invalid: it needs {' and '.join(missing)}, "
                    f"which {verb} unset. Set the endpoint (for example CAMPFIRE_AI_BASE_URL="
                    "http://127.0.0.1:8000/v1) and the model name, or set "
                    "CAMPFIRE_AI_PROVIDER=extractive"
                )
            base_url = urlsplit(self.base_url or "")
            if base_url.scheme not in ("http", "https") or not base_url.hostname:
                raise ValueError(
                    f"CAMPFIRE_AI_BASE_URL {self.base_url} is invalid: it must be an http:// "
                    "or https:// URL with a host, for example http://127.0.0.1:8000/v1"
                )
        if self.retriever in SEMANTIC_RETRIEVERS and not semantic_available():
            raise ValueError(
                f"CAMPFIRE_AI_RETRIEVER {self.retriever} is invalid: {SEMANTIC_MISSING}, "
                "or set CAMPFIRE_AI_RETRIEVER=auto to use lexical retrieval without it"
            )


def load_assistant_settings() -> AssistantSettings:
    """Read and check the ``CAMPFIRE_AI_*`` settings.

    Raises pydantic's ``ValidationError`` for a value of the wrong type and
    ``ValueError`` for settings that cannot work together.
    """
    settings = AssistantSettings()
    settings.check()
    return settings

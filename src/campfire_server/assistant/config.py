"""Settings of the answer engine, read from ``CAMPFIRE_AI_*`` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

"""Build the answer engine from settings and run automatic replies with the app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ..db.database import Database
from ..events import emit
from ..knowledge.registry import IndexRegistry
from ..knowledge.semantic import Encoder, SemanticUnavailable
from . import actions
from .config import SEMANTIC_RETRIEVERS, AssistantSettings
from .engine import AnswerEngine
from .providers.base import AnswerProvider
from .providers.extractive import ExtractiveProvider
from .providers.openai import OpenAIChatProvider

log = logging.getLogger(__name__)


def build_engine(db: Database, settings: AssistantSettings | None = None) -> AnswerEngine:
    """Return an engine with the configured retriever and provider chain.

    Raises ``ValueError`` for settings that ``AssistantSettings.check`` rejects.
    """
    settings = settings or AssistantSettings()
    settings.check()
    semantic = None if settings.retriever == "auto" else settings.retriever != "lexical"
    registry = IndexRegistry(db, semantic=semantic)
    providers: list[AnswerProvider] = []
    if settings.provider == "openai":
        assert settings.base_url and settings.model  # settings.check() rejects them unset
        providers.append(
            OpenAIChatProvider(
                base_url=settings.base_url,
                model=settings.model,
                api_key=settings.api_key,
                timeout_s=settings.timeout_s,
                max_tokens=settings.max_tokens,
            )
        )
    providers.append(ExtractiveProvider())
    retriever = None if settings.retriever == "auto" else settings.retriever
    return AnswerEngine(
        registry,
        providers=providers,
        retriever=retriever,
        provider_timeout_s=settings.timeout_s + 5,
    )


@asynccontextmanager
async def assistant_service(app: Any) -> AsyncIterator[None]:
    """Give the app an answer engine and answer customer messages while it runs.

    A retriever set to ``semantic`` or ``fused`` by name loads its model
    before the server accepts requests, and a model that fails to load stops
    start-up. With ``auto`` the model loads in the background.
    """
    settings = AssistantSettings()
    engine = build_engine(app.state.db, settings)
    encoder = engine.registry.encoder
    if encoder is not None and settings.retriever in SEMANTIC_RETRIEVERS:
        try:
            await asyncio.to_thread(encoder.load)
        except (SemanticUnavailable, OSError, RuntimeError) as error:
            log.error(
                "semantic model failed to load; start-up stopped",
                extra={"retriever": settings.retriever, "error": str(error)},
            )
            raise
    app.state.answer_engine = engine
    emit.register_tx_hook(actions.resume_ai_on_resolve)
    app.state.auto_replier = actions.AutoReplier(app.state.db, engine)
    unsubscribe = actions.subscribe(app.state.auto_replier)
    log.info("answer engine ready", extra={"retriever": engine.retriever})
    warm_up = None
    if encoder is not None and not encoder.loaded:
        # Loading the sentence model takes seconds; do it beside start-up, not
        # inside the first customer's answer.
        warm_up = asyncio.create_task(_load_encoder(engine.registry.encoder))
    try:
        yield
    finally:
        if warm_up is not None:
            warm_up.cancel()
        unsubscribe()
        engine.registry.close()
        for provider in engine.providers:
            close = getattr(provider, "close", None)
            if close is not None:
                await close()


async def _load_encoder(encoder: Encoder) -> None:
    try:
        await asyncio.to_thread(encoder.load)
    except (SemanticUnavailable, OSError, RuntimeError) as error:
        # The first query retries the load and reports the error to its caller.
        # NOTE: with ``auto``, an extra that is installed but fails to load is
        # not replaced by lexical retrieval, so each search then fails.
        log.error("semantic model failed to load", extra={"error": str(error)})

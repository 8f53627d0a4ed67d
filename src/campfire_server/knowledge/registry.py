"""One search index per organization, rebuilt when its knowledge version moves."""

from __future__ import annotations

import asyncio
import logging
import threading

from ..db.database import Database
from . import actions, service
from .index import KnowledgeIndex
from .semantic import Encoder, semantic_available, shared_encoder

log = logging.getLogger(__name__)


class IndexRegistry:
    """Caches a ``KnowledgeIndex`` per organization and rebuilds it when stale.

    Every lookup reads the organization's knowledge version (one primary-key
    SELECT), so a write made by any process is seen by the next answer here.
    With ``semantic=None`` the semantic retriever is used when its extra is
    installed.
    """

    def __init__(
        self, database: Database, *, semantic: bool | None = None, encoder: Encoder | None = None
    ) -> None:
        self.database = database
        if semantic is None:
            semantic = semantic_available()
        self.encoder = (encoder or shared_encoder()) if semantic else None
        self._indexes: dict[str, KnowledgeIndex] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._sync_lock = threading.Lock()
        actions.on_change.append(self.invalidate)

    @property
    def semantic(self) -> bool:
        return self.encoder is not None

    def invalidate(self, org_id: str) -> None:
        self._indexes.pop(org_id, None)

    def close(self) -> None:
        if self.invalidate in actions.on_change:
            actions.on_change.remove(self.invalidate)

    def _build(self, org_id: str) -> KnowledgeIndex:
        version, articles = self.database.read_sync(lambda tx: service.index_rows(tx, org_id))
        index = KnowledgeIndex(articles, version=version, encoder=self.encoder)
        log.info(
            "knowledge index built",
            extra={
                "org_id": org_id,
                "version": version,
                "articles": len(articles),
                "passages": len(index.passages),
            },
        )
        return index

    async def get(self, org_id: str) -> KnowledgeIndex:
        version = await self.database.read(lambda tx: service.index_version(tx, org_id))
        cached = self._indexes.get(org_id)
        if cached is not None and cached.version == version:
            return cached
        lock = self._locks.setdefault(org_id, asyncio.Lock())
        async with lock:
            cached = self._indexes.get(org_id)
            if cached is not None and cached.version == version:
                return cached
            index = await asyncio.to_thread(self._build, org_id)
            self._indexes[org_id] = index
            return index

    def get_sync(self, org_id: str) -> KnowledgeIndex:
        """Return the index from code that runs without an event loop (the CLI)."""
        version = self.database.read_sync(lambda tx: service.index_version(tx, org_id))
        with self._sync_lock:
            cached = self._indexes.get(org_id)
            if cached is None or cached.version != version:
                cached = self._build(org_id)
                self._indexes[org_id] = cached
            return cached

